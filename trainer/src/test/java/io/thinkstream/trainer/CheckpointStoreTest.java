package io.thinkstream.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.thinkstream.model.Checkpoints;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStoreTest {
  @TempDir Path out;

  static Manifest manifest(long v, Map<String, String> files) {
    return new Manifest(v, v == 1 ? null : v - 1, 0, files, List.of(new Manifest.Range("t", 0, 0, 5)), List.of(),
        List.of(), Map.of());
  }

  Path write(CheckpointStore store, long v) {
    return store.write(v, tmp -> {
      Checkpoints.writeSynced(tmp.resolve("model.safetensors"), ("weights " + v).getBytes(StandardCharsets.UTF_8));
      Checkpoints.writeSynced(tmp.resolve("config.json"), "{}".getBytes(StandardCharsets.UTF_8));
    }, files -> manifest(v, files));
  }

  @Test
  void aCheckpointAppearsWholeWithTheSha256OfEveryFile() {
    CheckpointStore store = new CheckpointStore(out);
    Path dir = write(store, 1);
    assertEquals(out.resolve("v1"), dir);
    assertFalse(Files.exists(out.resolve("v1.tmp")));
    Manifest m = store.newest().orElseThrow();
    assertEquals(1, m.version());
    assertEquals(Checkpoints.sha256(dir.resolve("model.safetensors")), m.files().get("model.safetensors"));
    assertEquals(2, m.files().size(), "every file but the manifest itself");
  }

  @Test
  void anIncompleteTmpDirectoryIsRemovedAndNeverLoaded() throws Exception {
    CheckpointStore store = new CheckpointStore(out);
    write(store, 1);
    Files.createDirectories(out.resolve("v2.tmp"));
    Files.writeString(out.resolve("v2.tmp/model.safetensors"), "half a file");
    Files.writeString(out.resolve("v2.tmp/manifest.json"), "{\"version\": 2, \"files\": {}}");
    assertEquals(List.of(1L), store.versions(), "a .tmp directory is no version");
    assertEquals(1, store.newest().orElseThrow().version());
    assertEquals(List.of(out.resolve("v2.tmp")), store.removeIncomplete());
    assertFalse(Files.exists(out.resolve("v2.tmp")));
    write(store, 2);
    assertEquals(2, store.newest().orElseThrow().version());
  }

  @Test
  void aCorruptFileIsRefusedByItsSha256() throws Exception {
    CheckpointStore store = new CheckpointStore(out);
    Path dir = write(store, 1);
    byte[] bytes = Files.readAllBytes(dir.resolve("model.safetensors"));
    bytes[0] ^= 1;
    Files.write(dir.resolve("model.safetensors"), bytes);
    CheckpointStore.CorruptCheckpointException e =
        assertThrows(CheckpointStore.CorruptCheckpointException.class, store::newest);
    assertTrue(e.getMessage().contains("model.safetensors has sha256"), e.getMessage());
    assertTrue(e.getMessage().contains("refusing"), e.getMessage());
  }
}
