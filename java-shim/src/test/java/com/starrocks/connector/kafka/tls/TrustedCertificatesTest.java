package com.starrocks.connector.kafka.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.starrocks.connector.kafka.StarRocksSinkConfig;
import com.starrocks.connector.kafka.StarRocksSinkConnector;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Truststores written by the test itself: PEM text, and PKCS12/JKS through java.security.KeyStore. */
class TrustedCertificatesTest {
    // Two self-signed EC CAs (openssl req -x509, valid until 2126) and the private key of the first.
    static final String CA_ONE = "-----BEGIN CERTIFICATE-----\n"
            + "MIIBqTCCAU+gAwIBAgIUM581LocTN05NfKYXap7svi3DkJwwCgYIKoZIzj0EAwIw\n"
            + "KTEnMCUGA1UEAwweVHJ1c3RlZENlcnRpZmljYXRlc1Rlc3QgQ0Egb25lMCAXDTI2\n"
            + "MTEyNTExNDkzOVoYDzIxMjYxMTAxMTE0OTM5WjApMScwJQYDVQQDDB5UcnVzdGVk\n"
            + "Q2VydGlmaWNhdGVzVGVzdCBDQSBvbmUwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
            + "AAQZvYwHSaed2N/JXyLa8tPmJKsVqaPz4jcRPQtwCYsRxbCnljeFnFr9iRYP10O2\n"
            + "byZ4BbYKia29JLi1635F4wP/o1MwUTAdBgNVHQ4EFgQU7VhVz2o/H/YC0MrHhLUo\n"
            + "0Jjl70MwHwYDVR0jBBgwFoAU7VhVz2o/H/YC0MrHhLUo0Jjl70MwDwYDVR0TAQH/\n"
            + "BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiAN7Kt56vdxebeJwplmf51nLbJ25M74\n"
            + "D0YYTQQfY7OnuAIhAO218QHEtMixRSmhRCht2Tmm/JCwR2gcGuaRxFveVv6X\n"
            + "-----END CERTIFICATE-----\n";
    static final String CA_TWO = "-----BEGIN CERTIFICATE-----\n"
            + "MIIBqjCCAU+gAwIBAgIUD4Lx7qXe8kNVqcojOVrWu/1TbI0wCgYIKoZIzj0EAwIw\n"
            + "KTEnMCUGA1UEAwweVHJ1c3RlZENlcnRpZmljYXRlc1Rlc3QgQ0EgdHdvMCAXDTI2\n"
            + "MTEyNTExNDkzOVoYDzIxMjYxMTAxMTE0OTM5WjApMScwJQYDVQQDDB5UcnVzdGVk\n"
            + "Q2VydGlmaWNhdGVzVGVzdCBDQSB0d28wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n"
            + "AATWXppHNVifaXdQ9tPSvYDcfhJzvcbDRcIcn4w+IfC/4nPXzYkWVONrTKsCufcQ\n"
            + "X0DRSpotQmbdagAOJhOQ128Fo1MwUTAdBgNVHQ4EFgQU67Z5ql6eqhyBQHQqQ+X5\n"
            + "Y/QlJc0wHwYDVR0jBBgwFoAU67Z5ql6eqhyBQHQqQ+X5Y/QlJc0wDwYDVR0TAQH/\n"
            + "BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAvJ0f/uhoNuu5ugk8fMg6ckyC229s\n"
            + "rd1zZHXKlhq3WEsCIQDJoyuiNXJMuNcZDFctASZ/4Yg08rgvOVgFsAgR0Ihi6g==\n"
            + "-----END CERTIFICATE-----\n";
    static final String CA_ONE_KEY = "-----BEGIN PRIVATE KEY-----\n"
            + "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgYBf4Rovf8JeWpGsB\n"
            + "eELlxPLtZTKnLXN/VzdY85yEGVShRANCAAQZvYwHSaed2N/JXyLa8tPmJKsVqaPz\n"
            + "4jcRPQtwCYsRxbCnljeFnFr9iRYP10O2byZ4BbYKia29JLi1635F4wP/\n"
            + "-----END PRIVATE KEY-----\n";
    static final String PASSWORD = "truststore-s3cret";

    @TempDir
    Path dir;

    static X509Certificate cert(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    static List<String> subjects(List<X509Certificate> certs) {
        List<String> out = new ArrayList<>();
        for (X509Certificate c : certs) {
            out.add(c.getSubjectX500Principal().getName());
        }
        java.util.Collections.sort(out);
        return out;
    }

    static final List<String> BOTH = java.util.Arrays.asList("CN=TrustedCertificatesTest CA one",
            "CN=TrustedCertificatesTest CA two");

    Path write(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, text.getBytes(StandardCharsets.UTF_8));
        return p;
    }

    Path keystore(String type, String name, String password, boolean withKeyEntry) throws Exception {
        KeyStore ks = KeyStore.getInstance(type);
        ks.load(null, null);
        ks.setCertificateEntry("two", cert(CA_TWO));
        if (withKeyEntry) {
            String b64 = CA_ONE_KEY.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(
                    new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
            ks.setKeyEntry("one", key, PASSWORD.toCharArray(), new Certificate[] {cert(CA_ONE)});
        } else {
            ks.setCertificateEntry("one", cert(CA_ONE));
        }
        Path p = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(p)) {
            ks.store(out, password.toCharArray());
        }
        return p;
    }

    @Test
    void pemBundleWithTextAroundTheBlocks() throws Exception {
        Path p = write("bundle.pem", "\uFEFF\n-----BEGIN CERTIFICATE-----\n" + CA_ONE.split("-----BEGIN CERTIFICATE-----\n")[1]
                + "# the second CA\nsubject=CN=two\n" + CA_TWO);
        List<X509Certificate> certs = TrustedCertificates.load(p.toString(), null, null);
        assertEquals(BOTH, subjects(certs));
        assertEquals(certs, TrustedCertificates.load(p.toString(), "ignored", "pem"));
        // What the core receives loads back to the same certificates.
        String pem = TrustedCertificates.toPem(certs);
        assertEquals(2, pem.split("-----BEGIN CERTIFICATE-----", -1).length - 1);
        assertEquals(certs, TrustedCertificates.load(write("again.pem", pem).toString(), null, null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"PKCS12", "JKS"})
    void keystoresWithAndWithoutTheirTypeGiven(String type) throws Exception {
        Path p = keystore(type, "trust." + type, PASSWORD, false);
        assertEquals(type, TrustedCertificates.infer(Files.readAllBytes(p)));
        assertEquals(BOTH, subjects(TrustedCertificates.load(p.toString(), PASSWORD, null)));
        assertEquals(BOTH, subjects(TrustedCertificates.load(p.toString(), PASSWORD, type.toLowerCase())));
    }

    @ParameterizedTest
    @ValueSource(strings = {"PKCS12", "JKS"})
    void theCertificateOfAKeyEntryIsTrustedToo(String type) throws Exception {
        Path p = keystore(type, "mixed." + type, PASSWORD, true);
        assertEquals(BOTH, subjects(TrustedCertificates.load(p.toString(), PASSWORD, type)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"PKCS12", "JKS"})
    void aWrongPasswordNamesThePasswordKeyAndNeverShowsIt(String type) throws Exception {
        Path p = keystore(type, "trust." + type, PASSWORD, false);
        TrustedCertificates.Problem e = assertThrows(TrustedCertificates.Problem.class,
                () -> TrustedCertificates.load(p.toString(), "not-" + PASSWORD, null));
        assertEquals(TrustedCertificates.PASSWORD, e.key());
        assertTrue(e.getMessage().contains("wrong password"), e.getMessage());
        assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
    }

    @Test
    void aProtectedPkcs12WithoutPasswordAsksForThePassword() throws Exception {
        Path p = keystore("PKCS12", "trust.p12", PASSWORD, false);
        TrustedCertificates.Problem e = assertThrows(TrustedCertificates.Problem.class,
                () -> TrustedCertificates.load(p.toString(), null, null));
        assertEquals(TrustedCertificates.PASSWORD, e.key(), e.getMessage());
    }

    @Test
    void problemsWithTheFileNameTheLocationKey() throws Exception {
        String missing = dir.resolve("missing.p12").toString();
        String empty = write("empty.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").toString();
        String garbage = write("garbage.bin", "this is not a keystore").toString();
        String badPem = write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").toString();
        String[][] cases = {
            {missing, null, "cannot read the truststore"},
            {empty, null, "the PEM truststore holds no certificates"},
            {garbage, PASSWORD, "not a readable PKCS12 keystore"},
            {badPem, null, "certificate #1 of the PEM truststore is not a valid X.509 certificate"},
        };
        for (String[] c : cases) {
            TrustedCertificates.Problem e = assertThrows(TrustedCertificates.Problem.class,
                    () -> TrustedCertificates.load(c[0], c[1], null), c[0]);
            assertEquals(TrustedCertificates.LOCATION, e.key(), e.getMessage());
            assertTrue(e.getMessage().contains(c[2]), e.getMessage());
            assertTrue(e.reason().startsWith(c[2]), e.reason());
        }
    }

    @Test
    void anUnknownTypeNamesTheTypeKey() throws Exception {
        Path p = keystore("PKCS12", "trust.p12", PASSWORD, false);
        TrustedCertificates.Problem e = assertThrows(TrustedCertificates.Problem.class,
                () -> TrustedCertificates.load(p.toString(), PASSWORD, "BKS"));
        assertEquals(TrustedCertificates.TYPE, e.key());
    }

    static Map<String, String> config(String location, String password) {
        Map<String, String> props = new HashMap<>();
        props.put("name", "tls");
        props.put("topics", "t");
        props.put("starrocks.http.url", "https://fe.example:8443");
        props.put("starrocks.username", "root");
        props.put("starrocks.password", "");
        props.put("starrocks.database.name", "d");
        if (location != null) {
            props.put(TrustedCertificates.LOCATION, location);
        }
        if (password != null) {
            props.put(TrustedCertificates.PASSWORD, password);
        }
        return props;
    }

    static List<String> errors(Map<String, String> props, String key) {
        for (ConfigValue v : new StarRocksSinkConnector().validate(props).configValues()) {
            if (v.name().equals(key)) {
                return v.errorMessages();
            }
        }
        throw new AssertionError("no " + key);
    }

    @Test
    void theConfigHandsTheCoreThePemAndValidateShowsProblemsOnTheirKey() throws Exception {
        Path p12 = keystore("PKCS12", "trust.p12", PASSWORD, false);
        Map<String, String> ok = config(p12.toString(), PASSWORD);
        String text = new StarRocksSinkConfig(ok).nativeConfig(ok);
        JsonNode forNative = new ObjectMapper().readTree(text);
        assertEquals(BOTH, subjects(TrustedCertificates.load(write("native.pem",
                forNative.get("starrocks.ssl.truststore.pem").asText()).toString(), null, null)));
        assertFalse(forNative.has(TrustedCertificates.PASSWORD), "the truststore password stays in the JVM");
        assertFalse(text.contains(PASSWORD), "the truststore password stays in the JVM");
        // the core gets the certificates, not where they came from
        assertFalse(forNative.has(TrustedCertificates.LOCATION));
        assertFalse(forNative.has(TrustedCertificates.TYPE));
        assertEquals(new ObjectMapper().readTree("[{\"https\": true, \"host_port\": \"fe.example:8443\"}]"),
                forNative.get("starrocks.http.url"), "other keys pass");
        assertTrue(errors(ok, TrustedCertificates.LOCATION).isEmpty());

        Map<String, String> none = config(null, null);
        none.put("__starrocks.ssl.truststore.pem", "smuggled"); // the key the core once read the PEM from
        String noneText = new StarRocksSinkConfig(none).nativeConfig(none);
        assertTrue(new ObjectMapper().readTree(noneText).get("starrocks.ssl.truststore.pem").isNull(),
                "without a truststore the core gets no certificates (a user-set internal key is dropped)");
        assertFalse(noneText.contains("smuggled"), noneText);

        Map<String, String> wrong = config(p12.toString(), "wrong");
        ConfigException e = assertThrows(ConfigException.class, () -> new StarRocksSinkConfig(wrong));
        assertTrue(e.getMessage().contains(TrustedCertificates.PASSWORD), e.getMessage());
        assertTrue(String.join(";", errors(wrong, TrustedCertificates.PASSWORD)).contains("wrong password"));
        assertTrue(errors(wrong, TrustedCertificates.LOCATION).isEmpty());

        Map<String, String> missing = config(dir.resolve("nope.pem").toString(), null);
        e = assertThrows(ConfigException.class, () -> new StarRocksSinkConfig(missing));
        assertTrue(e.getMessage().contains(TrustedCertificates.LOCATION), e.getMessage());
        List<String> shown = errors(missing, TrustedCertificates.LOCATION);
        assertEquals(1, shown.size(), shown.toString());
        assertTrue(shown.get(0).startsWith(TrustedCertificates.LOCATION + ": cannot read the truststore"), shown.get(0));

        Map<String, String> badType = config(p12.toString(), PASSWORD);
        badType.put(TrustedCertificates.TYPE, "PFX");
        assertFalse(errors(badType, TrustedCertificates.TYPE).isEmpty());
        assertTrue(errors(badType, TrustedCertificates.LOCATION).isEmpty(), "not read with an invalid type");
    }
}
