package io.thinkstream.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.thinkstream.model.internal.SafeTensors;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Checkpoints as Hugging Face lays them out: {@code config.json} + {@code model.safetensors} with
 * LlamaForCausalLM tensor names, so {@code from_pretrained(dir)} opens what the trainer writes and
 * the policy opens what the Hub publishes (single file or sharded with an index, F32/BF16/F16).
 *
 * <p>Each file is written to a temporary name, fsynced and atomically renamed, weights last, so a
 * reader never sees half a file; the weights' sha256 is returned and kept beside them in
 * {@code model.safetensors.sha256} (sha256sum format), which loading checks when present.
 *
 * <p>A checkpoint of the built-in tokenizer carries its vocabulary ({@link #saveTokenizer}) and
 * is read back with that vocabulary ({@link #tokenizer}), so its token ids never depend on the
 * code that loads it.
 */
public final class Checkpoints {
  public static final String CONFIG = "config.json";
  public static final String WEIGHTS = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";
  public static final String SHA256 = WEIGHTS + ".sha256";
  public static final String TOKENIZER = "tokenizer.json";

  /** What was written: the directory, the weights' sha256 (hex) and their size in bytes. */
  public record Written(Path dir, String sha256, long bytes) {}

  private Checkpoints() {}

  /**
   * Writes {@code model} into {@code dir}; {@code tokenizer} (may be null) gives config.json its
   * special-token ids, and the built-in tokenizer is written along ({@link #saveTokenizer}).
   * Another tokenizer's files are the caller's to copy.
   */
  public static Written save(Transformer model, Tokenizer tokenizer, Path dir) {
    try {
      Files.createDirectories(dir);
      byte[] config = new ObjectMapper().writerWithDefaultPrettyPrinter()
          .writeValueAsBytes(model.config().toJson(tokenizer));
      atomically(dir.resolve(CONFIG), out -> out.write(config));
      if (tokenizer instanceof SyntheticTokenizer) {
        saveTokenizer(tokenizer, dir);
      }
      MessageDigest sha = sha256();
      long[] size = new long[1];
      atomically(dir.resolve(WEIGHTS), out -> {
        CountingDigest counted = new CountingDigest(out, sha);
        SafeTensors.write(counted, model.parameters());
        counted.flush();
        size[0] = counted.count;
      });
      String hex = HexFormat.of().formatHex(sha.digest());
      atomically(dir.resolve(SHA256), out -> out.write((hex + "  " + WEIGHTS + "\n").getBytes(StandardCharsets.UTF_8)));
      fsyncDirectory(dir);
      return new Written(dir, hex, size[0]);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint to " + dir, e);
    }
  }

  /** Loads a checkpoint directory onto {@code device}; BF16/F16 weights become FLOAT32. */
  public static Transformer load(Path dir, Device device) {
    ModelConfig config = ModelConfig.read(dir.resolve(CONFIG));
    try (NDManager staging = NDManager.newBaseManager(device)) {
      Map<String, NDArray> weights = new HashMap<>();
      if (Files.exists(dir.resolve(WEIGHTS))) {
        verify(dir);
        weights.putAll(SafeTensors.read(dir.resolve(WEIGHTS), staging));
      } else if (Files.exists(dir.resolve(INDEX))) {
        JsonNode map = new ObjectMapper().readTree(dir.resolve(INDEX).toFile()).get("weight_map");
        TreeSet<String> shards = new TreeSet<>();
        map.forEach(shard -> shards.add(shard.asText()));
        for (String shard : shards) {
          weights.putAll(SafeTensors.read(dir.resolve(shard), staging));
        }
      } else {
        throw new IllegalArgumentException(dir + " has neither " + WEIGHTS + " nor " + INDEX);
      }
      if (config.tieEmbeddings()) {
        weights.remove("lm_head.weight"); // some exporters write the tied copy too
      }
      weights.keySet().removeIf(k -> k.endsWith("rotary_emb.inv_freq")); // old exports keep a buffer
      Map<String, NDArray> ordered = new LinkedHashMap<>(weights);
      return Transformer.of(config, device, ordered);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoint " + dir, e);
    }
  }

  /** The file naming a checkpoint's built-in tokenizer: {@code {"tokenizer": "synthetic", "strategy_tags": N}}. */
  public static final String TOKENIZER_NOTE = "thinkstream.json";

  /**
   * Writes the tokenizer files of a checkpoint: for the built-in tokenizer {@value #TOKENIZER_NOTE}
   * and its vocabulary as an HF {@code tokenizer.json} + {@code tokenizer_config.json}, so the
   * directory is a complete Hugging Face model and records the ids it was trained with. Each file
   * is fsynced. Other tokenizers' files are the caller's to copy.
   */
  public static void saveTokenizer(Tokenizer tokenizer, Path dir) {
    if (!(tokenizer instanceof SyntheticTokenizer synthetic)) {
      throw new IllegalArgumentException("only the built-in tokenizer is written from memory; copy "
          + tokenizer.getClass().getSimpleName() + "'s tokenizer.json instead");
    }
    try {
      ObjectMapper json = new ObjectMapper();
      writeSynced(dir.resolve(TOKENIZER_NOTE), ("{\"tokenizer\": \"synthetic\", \"strategy_tags\": "
          + synthetic.strategies() + "}\n").getBytes(StandardCharsets.UTF_8));
      writeSynced(dir.resolve(TOKENIZER), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(synthetic.toHfJson()));
      com.fasterxml.jackson.databind.node.ObjectNode config = json.createObjectNode();
      config.put("tokenizer_class", "PreTrainedTokenizerFast");
      config.put("bos_token", SyntheticTokenizer.BOS);
      config.put("eos_token", SyntheticTokenizer.EOS);
      config.put("pad_token", SyntheticTokenizer.PAD);
      config.put("unk_token", SyntheticTokenizer.UNK);
      config.put("add_bos_token", false);
      config.put("add_eos_token", false);
      config.put("clean_up_tokenization_spaces", false);
      config.put("model_max_length", 1_000_000);
      writeSynced(dir.resolve("tokenizer_config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsBytes(config));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tokenizer into " + dir, e);
    }
  }

  /**
   * The tokenizer a checkpoint was written with. When {@value #TOKENIZER_NOTE} names the built-in
   * tokenizer, its vocabulary is the one recorded in the directory's {@code tokenizer.json}
   * ({@link SyntheticTokenizer#fromHfJson}), never today's word lists, so a checkpoint keeps its
   * token ids whatever the synthetic task's code says now. Otherwise the directory's Hugging
   * Face {@code tokenizer.json} is loaded as such.
   */
  public static Tokenizer tokenizer(Path dir) {
    Path note = dir.resolve(TOKENIZER_NOTE);
    Path recorded = dir.resolve(TOKENIZER);
    if (Files.exists(note)) {
      JsonNode json = readJson(note);
      String kind = json.path("tokenizer").asText("");
      if (!kind.equals("synthetic")) {
        throw new IllegalArgumentException(note + " names tokenizer '" + kind + "'; only 'synthetic' is built in");
      }
      if (!Files.exists(recorded)) {
        throw new IllegalArgumentException(note + " names the built-in tokenizer but " + dir + " has no " + TOKENIZER
            + " recording its vocabulary: the token ids this checkpoint was trained with are unknown");
      }
      SyntheticTokenizer tok = SyntheticTokenizer.fromHfJson(readJson(recorded));
      int tags = json.path("strategy_tags").asInt(-1);
      if (tags != tok.strategies()) {
        throw new IllegalArgumentException(note + " says " + tags + " strategy tags but " + recorded + " has "
            + tok.strategies());
      }
      return tok;
    }
    if (Files.exists(recorded)) {
      return HfTokenizer.fromCheckpoint(dir);
    }
    throw new IllegalArgumentException(dir + " has neither " + TOKENIZER_NOTE + " nor " + TOKENIZER + ": no tokenizer to load");
  }

  private static JsonNode readJson(Path file) {
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /** Hex sha256 of a file's bytes. */
  public static String sha256(Path file) {
    MessageDigest sha = sha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n; (n = in.read(buf)) > 0; ) {
        sha.update(buf, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return HexFormat.of().formatHex(sha.digest());
  }

  private static void verify(Path dir) throws IOException {
    Path recorded = dir.resolve(SHA256);
    if (!Files.exists(recorded)) {
      return;
    }
    String want = Files.readString(recorded).strip().split("\\s+")[0];
    String have = sha256(dir.resolve(WEIGHTS));
    if (!want.equalsIgnoreCase(have)) {
      throw new IllegalStateException(dir.resolve(WEIGHTS) + " has sha256 " + have + " but " + SHA256 + " records " + want);
    }
  }

  /**
   * Writes {@code bytes} to {@code file} and fsyncs it: for the files of a checkpoint directory
   * that is itself renamed into place once everything in it is durable.
   */
  public static void writeSynced(Path file, byte[] bytes) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** Makes a directory's entries (new files, renames) durable, where the file system allows it. */
  public static void syncDirectory(Path dir) {
    fsyncDirectory(dir);
  }

  private interface Body {
    void write(OutputStream out) throws IOException;
  }

  private static void atomically(Path target, Body body) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      OutputStream out = new BufferedOutputStream(java.nio.channels.Channels.newOutputStream(ch), 1 << 20);
      body.write(out);
      out.flush();
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException ignored) {
      // Some file systems cannot open a directory for fsync; the renames are still atomic.
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  /** Hashes and counts what passes through. */
  private static final class CountingDigest extends DigestOutputStream {
    long count;

    CountingDigest(OutputStream out, MessageDigest digest) {
      super(out, digest);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      super.write(b, off, len);
      count += len;
    }

    @Override
    public void write(int b) throws IOException {
      super.write(b);
      count++;
    }
  }
}
