package io.thinkstream.model;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's Rust-backed {@link HuggingFaceTokenizer}, for
 * real Llama/Qwen checkpoints. Special-token ids come from the checkpoint's {@code config.json}
 * (the tokenizer file does not say which token is bos or eos); pad falls back to eos.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {
  private final HuggingFaceTokenizer tokenizer;
  private final int vocabSize;
  private final int bos;
  private final int eos;
  private final int pad;

  private HfTokenizer(HuggingFaceTokenizer tokenizer, int vocabSize, int bos, int eos, int pad) {
    this.tokenizer = tokenizer;
    this.vocabSize = vocabSize;
    this.bos = bos;
    this.eos = eos;
    this.pad = pad;
  }

  /**
   * Loads {@code tokenizer.json}; never adds special tokens itself and never truncates. The
   * vocabulary size is the model's ({@code vocab_size}), which may exceed the tokenizer's.
   */
  public static HfTokenizer load(Path tokenizerJson, int vocabSize, int bos, int eos, int pad) {
    try {
      HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
          .optTokenizerPath(tokenizerJson)
          .optAddSpecialTokens(false)
          .optTruncation(false)
          .optPadding(false)
          .build();
      return new HfTokenizer(t, vocabSize, bos, eos, pad < 0 ? eos : pad);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot load tokenizer " + tokenizerJson, e);
    }
  }

  /**
   * The tokenizer of an HF checkpoint directory: {@code tokenizer.json}, with vocabulary size and
   * bos/eos/pad ids from its {@code config.json} (an eos list, as Llama 3 writes, gives its first).
   */
  public static HfTokenizer fromCheckpoint(Path dir) {
    try {
      com.fasterxml.jackson.databind.JsonNode config =
          new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("config.json").toFile());
      int vocab = config.path("vocab_size").asInt(-1);
      if (vocab <= 0) {
        throw new IllegalArgumentException(dir.resolve("config.json") + " lacks vocab_size");
      }
      return load(dir.resolve("tokenizer.json"), vocab, id(config, "bos_token_id"), id(config, "eos_token_id"),
          id(config, "pad_token_id"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + dir.resolve("config.json"), e);
    }
  }

  private static int id(com.fasterxml.jackson.databind.JsonNode config, String key) {
    com.fasterxml.jackson.databind.JsonNode v = config.path(key);
    if (v.isArray()) {
      v = v.path(0);
    }
    return v.isNumber() ? v.asInt() : -1;
  }

  @Override
  public int[] encode(String text) {
    Encoding e = tokenizer.encode(text, false, false);
    return Arrays.stream(e.getIds()).mapToInt(Math::toIntExact).toArray();
  }

  @Override
  public String decode(int[] ids, boolean skipSpecial) {
    return tokenizer.decode(Arrays.stream(ids).asLongStream().toArray(), skipSpecial);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public int bosId() {
    return bos;
  }

  @Override
  public int eosId() {
    return eos;
  }

  @Override
  public int padId() {
    return pad;
  }

  @Override
  public int tokenId(String token) {
    int[] ids = encode(token);
    return ids.length == 1 ? ids[0] : -1;
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
