package com.starrocks.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

/** docs/configuration.md's generated reference is what {@link StarRocksSinkConfig#CONFIG_DEF} renders to. */
class ConfigReferenceTest {
    private static final Path DOC = Paths.get(System.getProperty("user.dir")).resolve("../docs/configuration.md").normalize();

    @Test
    void theDocsReferenceMatchesTheConfigDef() throws Exception {
        String text = new String(Files.readAllBytes(DOC), StandardCharsets.UTF_8);
        String expected = ConfigReference.replaceBlock(text, ConfigReference.markdown(StarRocksSinkConfig.CONFIG_DEF));
        assertEquals(expected, text, DOC + " is out of date with StarRocksSinkConfig: run `make docs`");
    }

    @Test
    void everyKeyIsRenderedWithItsDefault() {
        String md = ConfigReference.markdown(StarRocksSinkConfig.CONFIG_DEF);
        for (String key : StarRocksSinkConfig.CONFIG_DEF.names()) {
            assertTrue(md.contains("| `" + key + "` |"), key);
        }
        assertTrue(md.contains("| `bufferflush.maxbytes` | long | `94371840` | [67108864,...,10737418240] |"), md);
        assertTrue(md.contains("| `starrocks.http.url` | string | (required) |"), md);
    }
}
