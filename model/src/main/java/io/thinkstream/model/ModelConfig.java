package io.thinkstream.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Every hyperparameter of the Llama-architecture policy, read from and written to a Hugging Face
 * {@code config.json} (LlamaConfig's key names), so a checkpoint opens in {@code transformers}.
 *
 * <p>Keys that change the architecture in ways this decoder does not implement (rope scaling,
 * attention or MLP biases, another activation) fail loudly instead of being silently ignored.
 */
public record ModelConfig(
    int vocabSize,
    int hiddenSize,
    int numLayers,
    int numHeads,
    int numKvHeads,
    int intermediateSize,
    double ropeTheta,
    int maxPositions,
    double normEps,
    boolean tieEmbeddings) {

  /** Informational keys an HF config may carry that do not change the computation. */
  private static final Set<String> IGNORED = Set.of(
      "architectures", "model_type", "torch_dtype", "transformers_version", "bos_token_id", "eos_token_id",
      "pad_token_id", "initializer_range", "use_cache", "pretraining_tp", "attention_dropout", "head_dim",
      "_name_or_path", "hidden_act", "attention_bias", "mlp_bias", "rope_scaling", "dtype");

  public ModelConfig {
    check(vocabSize > 0, "vocab_size must be > 0, got " + vocabSize);
    check(hiddenSize > 0 && numHeads > 0 && hiddenSize % numHeads == 0,
        "hidden_size " + hiddenSize + " must be a positive multiple of num_attention_heads " + numHeads);
    check((hiddenSize / numHeads) % 2 == 0, "head dim " + hiddenSize / Math.max(1, numHeads) + " must be even for RoPE");
    check(numKvHeads > 0 && numHeads % numKvHeads == 0,
        "num_attention_heads " + numHeads + " must be a multiple of num_key_value_heads " + numKvHeads);
    check(numLayers > 0, "num_hidden_layers must be > 0, got " + numLayers);
    check(intermediateSize > 0, "intermediate_size must be > 0, got " + intermediateSize);
    check(ropeTheta > 0, "rope_theta must be > 0, got " + ropeTheta);
    check(maxPositions > 0, "max_position_embeddings must be > 0, got " + maxPositions);
    check(normEps > 0, "rms_norm_eps must be > 0, got " + normEps);
  }

  /** The embedded demo's size: small enough to train on two CPU cores in minutes. */
  public static ModelConfig demo(int vocabSize) {
    return new ModelConfig(vocabSize, 192, 4, 6, 2, 512, 10_000, 512, 1e-5, true);
  }

  /** A toy size for unit tests. */
  public static ModelConfig tiny(int vocabSize) {
    return new ModelConfig(vocabSize, 32, 2, 4, 2, 64, 10_000, 128, 1e-5, false);
  }

  public int headDim() {
    return hiddenSize / numHeads;
  }

  public static ModelConfig read(Path configJson) {
    try {
      return fromJson(new ObjectMapper().readTree(configJson.toFile()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + configJson, e);
    }
  }

  public static ModelConfig fromJson(JsonNode json) {
    List<String> unknown = new ArrayList<>();
    for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!IGNORED.contains(key) && !KNOWN.contains(key)) {
        unknown.add(key);
      }
    }
    check(unknown.isEmpty(), "unknown config.json keys " + unknown + " (known: " + KNOWN + ")");
    check(text(json, "hidden_act", "silu").equals("silu"), "hidden_act must be silu, got " + json.get("hidden_act"));
    check(!json.path("attention_bias").asBoolean(false), "attention_bias=true is not supported");
    check(!json.path("mlp_bias").asBoolean(false), "mlp_bias=true is not supported");
    check(json.path("rope_scaling").isMissingNode() || json.path("rope_scaling").isNull(),
        "rope_scaling is not supported, got " + json.get("rope_scaling"));
    int heads = required(json, "num_attention_heads").asInt();
    int hidden = required(json, "hidden_size").asInt();
    if (json.has("head_dim")) {
      check(json.get("head_dim").asInt() == hidden / heads,
          "head_dim " + json.get("head_dim") + " must equal hidden_size / num_attention_heads = " + hidden / heads);
    }
    return new ModelConfig(
        required(json, "vocab_size").asInt(),
        hidden,
        required(json, "num_hidden_layers").asInt(),
        heads,
        json.path("num_key_value_heads").asInt(heads),
        required(json, "intermediate_size").asInt(),
        json.path("rope_theta").asDouble(10_000),
        json.path("max_position_embeddings").asInt(2048),
        json.path("rms_norm_eps").asDouble(1e-6),
        json.path("tie_word_embeddings").asBoolean(false));
  }

  /** The config as LlamaForCausalLM's {@code config.json}; token ids come from the tokenizer. */
  public ObjectNode toJson(Tokenizer tokenizer) {
    ObjectNode json = new ObjectMapper().createObjectNode();
    json.putArray("architectures").add("LlamaForCausalLM");
    json.put("model_type", "llama");
    json.put("vocab_size", vocabSize);
    json.put("hidden_size", hiddenSize);
    json.put("num_hidden_layers", numLayers);
    json.put("num_attention_heads", numHeads);
    json.put("num_key_value_heads", numKvHeads);
    json.put("head_dim", headDim());
    json.put("intermediate_size", intermediateSize);
    json.put("hidden_act", "silu");
    json.put("rope_theta", ropeTheta);
    json.put("max_position_embeddings", maxPositions);
    json.put("rms_norm_eps", normEps);
    json.put("tie_word_embeddings", tieEmbeddings);
    json.put("attention_bias", false);
    json.put("mlp_bias", false);
    json.put("torch_dtype", "float32");
    if (tokenizer != null) {
      json.put("bos_token_id", tokenizer.bosId());
      json.put("eos_token_id", tokenizer.eosId());
      json.put("pad_token_id", tokenizer.padId());
    }
    return json;
  }

  public void write(Path configJson, Tokenizer tokenizer) {
    try {
      Files.writeString(configJson, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(toJson(tokenizer)));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + configJson, e);
    }
  }

  private static final Set<String> KNOWN = Set.of(
      "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
      "intermediate_size", "rope_theta", "max_position_embeddings", "rms_norm_eps", "tie_word_embeddings");

  private static JsonNode required(JsonNode json, String key) {
    check(json.hasNonNull(key), "config.json lacks required key '" + key + "'");
    return json.get(key);
  }

  private static String text(JsonNode json, String key, String fallback) {
    return json.hasNonNull(key) ? json.get(key).asText() : fallback;
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
