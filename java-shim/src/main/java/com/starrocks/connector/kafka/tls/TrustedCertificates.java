package com.starrocks.connector.kafka.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.ConfigException;

/**
 * The CA certificates of {@code starrocks.ssl.truststore.*}: read from a PEM file (one or more {@code CERTIFICATE}
 * blocks) or a JKS/PKCS12 keystore, and handed to the Rust core as one PEM text. As with the JDK's trust managers,
 * a keystore contributes its trusted-certificate entries and the certificate of each key entry. Every failure is a
 * {@link Problem} naming the key to fix; the password never appears in a message.
 */
public final class TrustedCertificates {
    public static final String LOCATION = "starrocks.ssl.truststore.location";
    public static final String PASSWORD = "starrocks.ssl.truststore.password";
    public static final String TYPE = "starrocks.ssl.truststore.type";

    private static final Pattern PEM_CERT = Pattern.compile(
            "-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\\s]*)-----END CERTIFICATE-----");
    private static final byte[] JKS_MAGIC = {(byte) 0xFE, (byte) 0xED, (byte) 0xFE, (byte) 0xED};

    /** A truststore problem; {@link #key()} is the setting it is about. */
    public static final class Problem extends ConfigException {
        private static final long serialVersionUID = 1L;
        private final String key;

        Problem(String key, Object value, String message) {
            super(key, value, message);
            this.key = key;
        }

        public String key() {
            return key;
        }

        /** The message without Kafka's "Invalid value ... for configuration ..." frame. */
        public String reason() {
            String m = getMessage();
            int colon = m.indexOf(key + ": ");
            return colon < 0 ? m : m.substring(colon + key.length() + 2);
        }
    }

    private TrustedCertificates() {
    }

    /**
     * Reads the truststore at {@code location}. {@code type} is PEM, JKS or PKCS12 (any case); null or empty
     * infers it: PEM when the file starts with {@code -----BEGIN}, JKS when it carries the JKS magic number, else
     * PKCS12. {@code password} may be null (a keystore is then read without its integrity check).
     */
    public static List<X509Certificate> load(String location, String password, String type) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(Paths.get(location));
        } catch (IOException | InvalidPathException | SecurityException e) {
            throw new Problem(LOCATION, location, "cannot read the truststore: " + e);
        }
        String t = type == null || type.trim().isEmpty() ? infer(bytes) : type.trim().toUpperCase(Locale.ROOT);
        List<X509Certificate> certs = "PEM".equals(t) ? fromPem(location, bytes) : fromKeyStore(location, bytes,
                password, t);
        if (certs.isEmpty()) {
            throw new Problem(LOCATION, location, "the " + t + " truststore holds no certificates"
                    + ("PEM".equals(t) ? " (no -----BEGIN CERTIFICATE----- block)" : ""));
        }
        return certs;
    }

    /** The certificates as concatenated PEM {@code CERTIFICATE} blocks. */
    public static String toPem(List<X509Certificate> certs) {
        Base64.Encoder b64 = Base64.getMimeEncoder(64, new byte[] {'\n'});
        StringBuilder out = new StringBuilder();
        for (X509Certificate c : certs) {
            try {
                out.append("-----BEGIN CERTIFICATE-----\n").append(b64.encodeToString(c.getEncoded()))
                        .append("\n-----END CERTIFICATE-----\n");
            } catch (CertificateException e) {
                throw new Problem(LOCATION, null, "certificate " + c.getSubjectX500Principal()
                        + " cannot be encoded: " + e);
            }
        }
        return out.toString();
    }

    static String infer(byte[] bytes) {
        String head = new String(bytes, 0, Math.min(bytes.length, 64), StandardCharsets.ISO_8859_1);
        head = head.replaceFirst("^(\u00EF\u00BB\u00BF)?\\s*", ""); // a UTF-8 BOM and blank lines are fine
        if (head.startsWith("-----BEGIN")) {
            return "PEM";
        }
        if (bytes.length >= 4 && bytes[0] == JKS_MAGIC[0] && bytes[1] == JKS_MAGIC[1] && bytes[2] == JKS_MAGIC[2]
                && bytes[3] == JKS_MAGIC[3]) {
            return "JKS";
        }
        return "PKCS12";
    }

    private static List<X509Certificate> fromPem(String location, byte[] bytes) {
        CertificateFactory factory = x509Factory();
        List<X509Certificate> certs = new ArrayList<>();
        Matcher m = PEM_CERT.matcher(new String(bytes, StandardCharsets.ISO_8859_1));
        while (m.find()) {
            try {
                byte[] der = Base64.getMimeDecoder().decode(m.group(1));
                certs.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
            } catch (IllegalArgumentException | CertificateException e) {
                throw new Problem(LOCATION, location, "certificate #" + (certs.size() + 1)
                        + " of the PEM truststore is not a valid X.509 certificate: " + e.getMessage());
            }
        }
        return certs;
    }

    private static List<X509Certificate> fromKeyStore(String location, byte[] bytes, String password, String type) {
        KeyStore ks;
        try {
            ks = KeyStore.getInstance(type);
        } catch (KeyStoreException e) {
            throw new Problem(TYPE, type, "keystore type not supported by this JVM (use PEM, JKS or PKCS12)");
        }
        try {
            ks.load(new ByteArrayInputStream(bytes), password == null ? null : password.toCharArray());
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new Problem(PASSWORD, "[hidden]", "wrong password for the " + type + " truststore " + location);
            }
            throw new Problem(LOCATION, location, "not a readable " + type + " keystore: " + e.getMessage());
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new Problem(LOCATION, location, "not a readable " + type + " keystore: " + e);
        }
        List<X509Certificate> certs = new ArrayList<>();
        try {
            for (String alias : Collections.list(ks.aliases())) {
                if (ks.isCertificateEntry(alias) || ks.isKeyEntry(alias)) {
                    Certificate c = ks.getCertificate(alias);
                    if (c instanceof X509Certificate) {
                        certs.add((X509Certificate) c);
                    }
                }
            }
        } catch (KeyStoreException e) {
            throw new Problem(LOCATION, location, "cannot list the " + type + " keystore: " + e.getMessage());
        }
        if (certs.isEmpty() && password == null) {
            throw new Problem(PASSWORD, null, "the " + type + " truststore " + location
                    + " shows no certificates without a password; set " + PASSWORD);
        }
        return certs;
    }

    private static CertificateFactory x509Factory() {
        try {
            return CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("this JVM has no X.509 certificate factory", e);
        }
    }
}
