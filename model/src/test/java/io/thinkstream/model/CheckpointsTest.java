package io.thinkstream.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointsTest {
  static final int[][] TOKENS = {{1, 5, 9, 2, 7, 3}, {4, 4, 8, 0, 6, 1}};

  static float[] logits(Transformer model) {
    int[][] segments = {{1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1}};
    try (NDManager m = model.newStepManager()) {
      return model.forward(m.create(TOKENS), m.create(Masks.positions(segments)), Masks.causal(m, segments), null)
          .toFloatArray();
    }
  }

  @Test
  void saveThenLoadGivesIdenticalLogits(@TempDir Path dir) throws Exception {
    for (boolean tied : new boolean[] {false, true}) {
      ModelConfig c = ModelConfig.tiny(20);
      ModelConfig config = new ModelConfig(c.vocabSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
          c.numKvHeads(), c.intermediateSize(), c.ropeTheta(), c.maxPositions(), c.normEps(), tied);
      Path out = dir.resolve("ckpt-" + tied);
      try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT32, 3)) {
        Checkpoints.Written written = Checkpoints.save(model, new SyntheticTokenizer(2), out);
        assertEquals(Checkpoints.sha256(out.resolve(Checkpoints.WEIGHTS)), written.sha256());
        assertEquals(Files.size(out.resolve(Checkpoints.WEIGHTS)), written.bytes());
        try (Transformer loaded = Checkpoints.load(out, Device.cpu())) {
          assertEquals(config, loaded.config());
          assertArrayEquals(logits(model), logits(loaded));
        }
      }
    }
  }

  /**
   * The names, shapes and dtypes that transformers' LlamaForCausalLM(config).state_dict() holds,
   * spelled out here independently of Transformer.shapes, and the header details its loader checks.
   */
  @Test
  void namesAndShapesMatchLlamaForCausalLM(@TempDir Path dir) throws Exception {
    ModelConfig config = new ModelConfig(30, 24, 2, 6, 2, 40, 10_000, 64, 1e-5, false);
    try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT32, 1)) {
      Checkpoints.save(model, null, dir);
    }
    Map<String, List<Long>> expected = new LinkedHashMap<>();
    expected.put("model.embed_tokens.weight", List.of(30L, 24L));
    for (int i = 0; i < 2; i++) {
      String p = "model.layers." + i + ".";
      expected.put(p + "self_attn.q_proj.weight", List.of(24L, 24L)); // heads * head_dim = 6 * 4
      expected.put(p + "self_attn.k_proj.weight", List.of(8L, 24L)); // kv heads * head_dim = 2 * 4
      expected.put(p + "self_attn.v_proj.weight", List.of(8L, 24L));
      expected.put(p + "self_attn.o_proj.weight", List.of(24L, 24L));
      expected.put(p + "mlp.gate_proj.weight", List.of(40L, 24L));
      expected.put(p + "mlp.up_proj.weight", List.of(40L, 24L));
      expected.put(p + "mlp.down_proj.weight", List.of(24L, 40L));
      expected.put(p + "input_layernorm.weight", List.of(24L));
      expected.put(p + "post_attention_layernorm.weight", List.of(24L));
    }
    expected.put("model.norm.weight", List.of(24L));
    expected.put("lm_head.weight", List.of(30L, 24L));

    byte[] file = Files.readAllBytes(dir.resolve("model.safetensors"));
    long headerLen = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    JsonNode header = new ObjectMapper().readTree(new String(file, 8, (int) headerLen, StandardCharsets.UTF_8));
    assertEquals("pt", header.get("__metadata__").get("format").asText(), "transformers refuses other formats");
    Map<String, List<Long>> actual = new LinkedHashMap<>();
    long end = 0;
    for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      List<Long> shape = new ArrayList<>();
      e.getValue().get("shape").forEach(d -> shape.add(d.asLong()));
      actual.put(e.getKey(), shape);
      assertEquals("F32", e.getValue().get("dtype").asText());
      long n = shape.stream().reduce(1L, (a, b) -> a * b);
      JsonNode off = e.getValue().get("data_offsets");
      assertEquals(4 * n, off.get(1).asLong() - off.get(0).asLong(), e.getKey());
      end = Math.max(end, off.get(1).asLong());
    }
    assertEquals(new java.util.TreeMap<>(expected), new java.util.TreeMap<>(actual));
    assertEquals(file.length, 8 + headerLen + end, "data must fill the file exactly");

    JsonNode json = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
    assertEquals("LlamaForCausalLM", json.get("architectures").get(0).asText());
    assertEquals("llama", json.get("model_type").asText());
    assertEquals(2, json.get("num_key_value_heads").asInt());
    assertEquals(40, json.get("intermediate_size").asInt());
  }

  @Test
  void bf16WeightsLoadAsTheirFloat32Values(@TempDir Path dir) throws Exception {
    ModelConfig config = ModelConfig.tiny(20);
    Map<String, float[]> rounded = new LinkedHashMap<>();
    try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT32, 4)) {
      model.config().write(dir.resolve("config.json"), null);
      ObjectNode header = new ObjectMapper().createObjectNode();
      header.putObject("__metadata__").put("format", "pt");
      List<byte[]> blobs = new ArrayList<>();
      long offset = 0;
      for (Map.Entry<String, NDArray> e : model.parameters().entrySet()) {
        float[] w = e.getValue().toFloatArray();
        ByteBuffer bf = ByteBuffer.allocate(2 * w.length).order(ByteOrder.LITTLE_ENDIAN);
        float[] r = new float[w.length];
        for (int i = 0; i < w.length; i++) {
          short top = (short) (Float.floatToIntBits(w[i]) >>> 16); // truncation: a valid bf16 value
          bf.putShort(top);
          r[i] = Float.intBitsToFloat((top & 0xFFFF) << 16);
        }
        rounded.put(e.getKey(), r);
        blobs.add(bf.array());
        var t = header.putObject(e.getKey());
        t.put("dtype", "BF16");
        var shape = t.putArray("shape");
        for (long d : e.getValue().getShape().getShape()) {
          shape.add(d);
        }
        t.putArray("data_offsets").add(offset).add(offset + 2L * w.length);
        offset += 2L * w.length;
      }
      byte[] json = new ObjectMapper().writeValueAsBytes(header);
      try (OutputStream out = Files.newOutputStream(dir.resolve("model.safetensors"))) {
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
        out.write(json);
        for (byte[] b : blobs) {
          out.write(b);
        }
      }
    }
    try (Transformer loaded = Checkpoints.load(dir, Device.cpu())) {
      assertEquals(DataType.FLOAT32, loaded.dataType());
      for (Map.Entry<String, float[]> e : rounded.entrySet()) {
        assertArrayEquals(e.getValue(), loaded.parameters().get(e.getKey()).toFloatArray(), e.getKey());
      }
    }
  }

  @Test
  void tensorsTheArchitectureDoesNotUseAreRefused() {
    ModelConfig config = ModelConfig.tiny(20);
    try (Transformer model = Transformer.init(config, Device.cpu(), DataType.FLOAT32, 3);
        NDManager m = model.newStepManager()) {
      Map<String, NDArray> weights = new LinkedHashMap<>(model.parameters());
      weights.put("model.layers.0.self_attn.q_proj.bias", m.zeros(new ai.djl.ndarray.types.Shape(32)));
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> Transformer.of(config, Device.cpu(), weights));
      assertEquals(true, e.getMessage().contains("q_proj.bias"), e.getMessage());
    }
  }

  @Test
  void aTamperedFileIsRefused(@TempDir Path dir) throws Exception {
    try (Transformer model = Transformer.init(ModelConfig.tiny(20), Device.cpu(), DataType.FLOAT32, 3)) {
      Checkpoints.save(model, null, dir);
    }
    byte[] bytes = Files.readAllBytes(dir.resolve("model.safetensors"));
    bytes[bytes.length - 1] ^= 1;
    Files.write(dir.resolve("model.safetensors"), bytes);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Checkpoints.load(dir, Device.cpu()));
    assertEquals(true, e.getMessage().contains("sha256"));
  }
}
