import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.management.Attribute;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

/**
 * Prints the attributes of the MBeans matching a pattern on a remote JVM as one JSON object
 * {"<object name>": {"<attribute>": value, ...}, ...}. For tests/harness/jmx.py; needs no build:
 * {@code java tests/harness/JmxDump.java 127.0.0.1:<port> 'starrocks.connector.kafka:*'} (Java 11+).
 * With a third argument, an interval in milliseconds, it prints one such line per interval until killed.
 */
public class JmxDump {
    public static void main(String[] args) throws Exception {
        if (args.length != 2 && args.length != 3) {
            System.err.println("usage: java JmxDump.java <host:port> <object name pattern> [interval ms]");
            System.exit(2);
        }
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://" + args[0] + "/jmxrmi");
        try (JMXConnector c = JMXConnectorFactory.connect(url)) {
            MBeanServerConnection mbs = c.getMBeanServerConnection();
            ObjectName pattern = new ObjectName(args[1]);
            if (args.length == 2) {
                System.out.println(dump(mbs, pattern));
                return;
            }
            long interval = Long.parseLong(args[2]);
            while (true) {
                System.out.println(dump(mbs, pattern));
                System.out.flush();
                Thread.sleep(interval);
            }
        }
    }

    static String dump(MBeanServerConnection mbs, ObjectName pattern) throws Exception {
        {
            Set<ObjectName> names = new TreeSet<>(mbs.queryNames(pattern, null));
            StringBuilder out = new StringBuilder("{");
            boolean firstBean = true;
            for (ObjectName name : names) {
                List<String> attrs = new ArrayList<>();
                for (MBeanAttributeInfo a : mbs.getMBeanInfo(name).getAttributes()) {
                    if (a.isReadable()) {
                        attrs.add(a.getName());
                    }
                }
                out.append(firstBean ? "" : ",").append(str(name.toString())).append(":{");
                firstBean = false;
                boolean first = true;
                List<Attribute> values;
                try {
                    values = mbs.getAttributes(name, attrs.toArray(new String[0])).asList();
                } catch (javax.management.InstanceNotFoundException gone) {
                    values = new ArrayList<>(); // unregistered meanwhile
                }
                for (Attribute a : values) {
                    out.append(first ? "" : ",").append(str(a.getName())).append(':').append(value(a.getValue()));
                    first = false;
                }
                out.append('}');
            }
            return out.append('}').toString();
        }
    }

    static String value(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            return Double.isFinite(d) ? Double.toString(d) : "null";
        }
        if (v instanceof Number || v instanceof Boolean) {
            return v.toString();
        }
        return str(v.toString());
    }

    static String str(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                default:
                    if (ch < 0x20) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
            }
        }
        return b.append('"').toString();
    }
}
