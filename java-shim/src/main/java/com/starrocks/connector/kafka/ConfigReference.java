package com.starrocks.connector.kafka;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;

/**
 * The configuration reference in docs/configuration.md, rendered from {@link StarRocksSinkConfig#CONFIG_DEF} so
 * the key list, types, defaults and valid values there cannot drift from what Connect validates.
 * {@code ConfigReferenceTest} fails when the file's generated block differs; {@code make docs} rewrites it.
 * (Connect renders RST and HTML only; the docs are Markdown.)
 */
public final class ConfigReference {
    public static final String BEGIN = "<!-- BEGIN generated from StarRocksSinkConfig.CONFIG_DEF by `make docs`: do not edit -->";
    public static final String END = "<!-- END generated -->";

    private ConfigReference() {
    }

    /** One table per ConfigDef group, keys in the group's order. */
    public static String markdown(ConfigDef def) {
        List<ConfigKey> keys = new ArrayList<>(def.configKeys().values());
        Collections.sort(keys, Comparator.comparingInt((ConfigKey k) -> def.groups().indexOf(k.group))
                .thenComparingInt(k -> k.orderInGroup));
        StringBuilder out = new StringBuilder();
        String group = null;
        for (ConfigKey k : keys) {
            if (!k.group.equals(group)) {
                group = k.group;
                out.append(out.length() == 0 ? "" : "\n").append("#### ").append(group).append("\n\n");
                out.append("| key | type | default | valid values | importance | description |\n");
                out.append("|---|---|---|---|---|---|\n");
            }
            out.append("| `").append(k.name).append("` | ").append(k.type.toString().toLowerCase())
                    .append(" | ").append(defaultText(k)).append(" | ").append(cell(k.validator == null ? "" : k.validator.toString()))
                    .append(" | ").append(k.importance.toString().toLowerCase()).append(" | ").append(cell(k.documentation))
                    .append(" |\n");
        }
        return out.toString();
    }

    /** {@code text} with the block between {@link #BEGIN} and {@link #END} replaced by {@code block}. */
    public static String replaceBlock(String text, String block) {
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("no generated block (" + BEGIN + " ... " + END + ")");
        }
        return text.substring(0, begin + BEGIN.length()) + "\n\n" + block + "\n" + text.substring(end);
    }

    private static String defaultText(ConfigKey k) {
        if (!k.hasDefault()) {
            return "(required)";
        }
        if (k.defaultValue == null) {
            return "(unset)";
        }
        String s = ConfigDef.convertToString(k.defaultValue, k.type);
        return s.isEmpty() ? "\"\"" : "`" + s + "`";
    }

    private static String cell(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    /** Prints the block, or with a path argument rewrites that file's block. */
    public static void main(String[] args) throws Exception {
        String block = markdown(StarRocksSinkConfig.CONFIG_DEF);
        if (args.length == 0) {
            System.out.print(block);
            return;
        }
        java.nio.file.Path path = java.nio.file.Paths.get(args[0]);
        String text = new String(java.nio.file.Files.readAllBytes(path), java.nio.charset.StandardCharsets.UTF_8);
        java.nio.file.Files.write(path, replaceBlock(text, block).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
