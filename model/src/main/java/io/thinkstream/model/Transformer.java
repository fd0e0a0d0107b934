package io.thinkstream.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.jni.JniUtils;
import io.thinkstream.model.internal.Attention;
import io.thinkstream.model.internal.Block;
import io.thinkstream.model.internal.HostArray;
import io.thinkstream.model.internal.KvCache;
import io.thinkstream.model.internal.Mlp;
import io.thinkstream.model.internal.RmsNorm;
import io.thinkstream.model.internal.Rotary;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * The policy: a Llama-architecture decoder (RMSNorm, RoPE from explicit position ids, grouped-query
 * attention under an explicit additive mask, SwiGLU) written with DJL NDArray ops.
 *
 * <p>Parameters live in this model's manager only, keyed by their Hugging Face LlamaForCausalLM
 * names, so checkpoints need no renaming. Every forward pass's arrays attach to the manager of the
 * input ids: callers run each step inside {@code model.newStepManager()} and close it.
 */
public final class Transformer implements AutoCloseable {
  private final ModelConfig config;
  private final NDManager manager;
  private final DataType dtype;
  private final Map<String, NDArray> params;
  private final NDArray wte; // (V, C)
  private final List<Block> blocks = new ArrayList<>();
  private final RmsNorm norm;
  private final NDArray lmHead; // (V, C)
  private final Rotary rotary;
  /** The decoding step's fused matrices of the current parameters; guarded by {@code this}. */
  private StepMatrices stepMatrices;
  /** Bumped by {@link #parametersChanged}; guarded by {@code this}. */
  private long parameterVersion;

  private Transformer(ModelConfig config, NDManager manager, Map<String, NDArray> params) {
    this.config = config;
    this.manager = manager;
    this.params = Collections.unmodifiableMap(params);
    check(params.keySet(), expectedNames(config));
    this.wte = params.get("model.embed_tokens.weight");
    this.dtype = wte.getDataType();
    int hs = config.headDim();
    for (int i = 0; i < config.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      blocks.add(new Block(
          new RmsNorm(params.get(p + "input_layernorm.weight"), config.normEps()),
          new Attention(params.get(p + "self_attn.q_proj.weight"), params.get(p + "self_attn.k_proj.weight"),
              params.get(p + "self_attn.v_proj.weight"), params.get(p + "self_attn.o_proj.weight"),
              config.numHeads(), config.numKvHeads(), hs),
          new RmsNorm(params.get(p + "post_attention_layernorm.weight"), config.normEps()),
          new Mlp(params.get(p + "mlp.gate_proj.weight"), params.get(p + "mlp.up_proj.weight"),
              params.get(p + "mlp.down_proj.weight"))));
    }
    this.norm = new RmsNorm(params.get("model.norm.weight"), config.normEps());
    this.lmHead = config.tieEmbeddings() ? wte : params.get("lm_head.weight");
    this.rotary = new Rotary(hs, config.ropeTheta());
  }

  /** The device the policy runs on: a GPU when DJL has one, the CPU otherwise. */
  public static Device defaultDevice() {
    return Engine.getInstance().defaultDevice();
  }

  /**
   * A freshly initialised model: N(0, 0.02) weights, output projections scaled by 1/sqrt(2L) as in
   * GPT-2 so the residual stream does not grow with depth, norms at one. Java's RNG makes the
   * initialisation the same on every engine and device.
   */
  public static Transformer init(ModelConfig config, Device device, DataType dtype, long seed) {
    NDManager manager = NDManager.newBaseManager(device);
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, NDArray> params = new LinkedHashMap<>();
    double residualStd = 0.02 / Math.sqrt(2.0 * config.numLayers());
    for (Map.Entry<String, Shape> e : shapes(config).entrySet()) {
      String name = e.getKey();
      Shape shape = e.getValue();
      double[] data = new double[Math.toIntExact(shape.size())];
      if (name.endsWith("norm.weight")) {
        java.util.Arrays.fill(data, 1.0);
      } else {
        double std = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight") ? residualStd : 0.02;
        for (int i = 0; i < data.length; i++) {
          data[i] = rnd.nextGaussian() * std;
        }
      }
      params.put(name, create(manager, data, shape, dtype));
    }
    return new Transformer(config, manager, params);
  }

  /** A model over given weights (HF names); the arrays move into the model's own manager. */
  public static Transformer of(ModelConfig config, Device device, Map<String, NDArray> weights) {
    Map<String, NDArray> params = new LinkedHashMap<>();
    Map<String, Shape> shapes = shapes(config);
    TreeSet<String> unused = new TreeSet<>(weights.keySet());
    unused.removeAll(shapes.keySet());
    if (!unused.isEmpty()) {
      // e.g. Qwen2's q/k/v biases: ignoring them would silently compute another model
      throw new IllegalArgumentException("checkpoint has tensors this architecture does not use: " + unused);
    }
    for (String name : shapes.keySet()) {
      NDArray w = weights.get(name);
      if (w == null) {
        throw new IllegalArgumentException("checkpoint lacks tensor '" + name + "'");
      }
      if (!w.getShape().equals(shapes.get(name))) {
        throw new IllegalArgumentException(
            "tensor '" + name + "' has shape " + w.getShape() + ", config wants " + shapes.get(name));
      }
    }
    NDManager manager = NDManager.newBaseManager(device);
    for (String name : shapes.keySet()) {
      NDArray w = weights.get(name);
      // PyTorch's to() aliases when nothing changes, so copy explicitly: the caller owns w.
      NDArray moved = w.getDevice().equals(device) ? w.duplicate() : w.toDevice(device, true);
      moved.attach(manager);
      params.put(name, moved);
    }
    return new Transformer(config, manager, params);
  }

  /**
   * An array that owns its data. Never {@code create(..).toType(sameType, true)} and close the
   * original: DJL's PyTorch engine then returns an alias of a buffer that is freed with it.
   */
  private static NDArray create(NDManager manager, double[] data, Shape shape, DataType dtype) {
    if (dtype == DataType.FLOAT64) {
      return manager.create(data, shape);
    }
    float[] f = new float[data.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) data[i];
    }
    NDArray p = manager.create(f, shape);
    return dtype == DataType.FLOAT32 ? p : p.toType(dtype, false);
  }

  /** Names and shapes of LlamaForCausalLM's state dict for {@code config} (lm_head left out when tied). */
  public static Map<String, Shape> shapes(ModelConfig c) {
    Map<String, Shape> s = new LinkedHashMap<>();
    long hs = c.headDim();
    s.put("model.embed_tokens.weight", new Shape(c.vocabSize(), c.hiddenSize()));
    for (int i = 0; i < c.numLayers(); i++) {
      String p = "model.layers." + i + ".";
      s.put(p + "input_layernorm.weight", new Shape(c.hiddenSize()));
      s.put(p + "self_attn.q_proj.weight", new Shape(c.numHeads() * hs, c.hiddenSize()));
      s.put(p + "self_attn.k_proj.weight", new Shape(c.numKvHeads() * hs, c.hiddenSize()));
      s.put(p + "self_attn.v_proj.weight", new Shape(c.numKvHeads() * hs, c.hiddenSize()));
      s.put(p + "self_attn.o_proj.weight", new Shape(c.hiddenSize(), c.numHeads() * hs));
      s.put(p + "post_attention_layernorm.weight", new Shape(c.hiddenSize()));
      s.put(p + "mlp.gate_proj.weight", new Shape(c.intermediateSize(), c.hiddenSize()));
      s.put(p + "mlp.up_proj.weight", new Shape(c.intermediateSize(), c.hiddenSize()));
      s.put(p + "mlp.down_proj.weight", new Shape(c.hiddenSize(), c.intermediateSize()));
    }
    s.put("model.norm.weight", new Shape(c.hiddenSize()));
    if (!c.tieEmbeddings()) {
      s.put("lm_head.weight", new Shape(c.vocabSize(), c.hiddenSize()));
    }
    return s;
  }

  /**
   * Logits for tokens (B, T) at positions (B, T) under an additive mask (B, 1, T, S). Without a
   * cache S = T; with one, the new keys are written after the cached ones first and S counts every
   * cached position. Results live in the manager of {@code tokens}.
   */
  public NDArray forward(NDArray tokens, NDArray positions, NDArray mask, KvCache cache) {
    return head(hidden(tokens, positions, mask, cache)); // (B, T, V)
  }

  /** Like {@link #forward} without a cache, but the LM head runs on the last column only: (B, V). */
  public NDArray forwardLast(NDArray tokens, NDArray positions, NDArray mask) {
    return lastLogits(hidden(tokens, positions, mask, null)); // (B, V)
  }

  /**
   * Like {@link #forward} without a cache, for a causal {@code mask} (B, 1, T, T): one that hides
   * every key after its query, whatever else it hides (segments, padding, turns). Queries attend in
   * chunks of {@link Attention#CHUNK} over their key prefix only, so the hidden upper triangle of
   * the scores is never computed; the logits (B, T, V) equal the dense pass's.
   */
  public NDArray forwardCausal(NDArray tokens, NDArray positions, NDArray mask) {
    NDArray additive = mask.getDataType() == dtype ? mask : mask.toType(dtype, false); // (B, 1, T, T)
    long[] ends = Attention.chunkEnds(tokens.getShape().get(1));
    List<NDArray> masks = Attention.chunkMasks(additive, ends, groupSize()); // chunks x (B, 1, g*L_i, e_i)
    Rotary.Factors rope = rotary(positions); // 4 x (B, T, 1, hs), (hs, hs)
    return head(hidden(tokens, layer -> (attn, h) -> attn.forwardCausal(h, rope, ends, masks))); // (B, T, V)
  }

  /**
   * Logits for tokens (B, T) at positions (B, T) with block-sparse attention: the same as the dense
   * {@link #forward} under the mask the blocks describe, without computing hidden blocks.
   */
  public NDArray forward(NDArray tokens, NDArray positions, AttentionBlocks blocks) {
    Rotary.Factors rope = rotary(positions); // 4 x (B, T, 1, hs), (hs, hs)
    AttentionBlocks.Arrays a = blocks.toArrays(tokens.getManager(), dtype);
    List<NDArray> masks = a.masks().stream().map(m -> Attention.groupedMask(m, groupSize())).toList(); // groups x (B, 1, g*Lq, Lk)
    AttentionBlocks.Arrays arrays = new AttentionBlocks.Arrays(a.queries(), a.querySplits(), a.keys(), a.keySplits(),
        masks, a.slot());
    return head(hidden(tokens, layer -> (attn, h) -> attn.forward(h, rope, arrays))); // (B, T, V)
  }

  private NDArray hidden(NDArray tokens, NDArray positions, NDArray mask, KvCache cache) {
    NDArray additive = mask.getDataType() == dtype ? mask : mask.toType(dtype, false); // (B, 1, T, S)
    NDArray grouped = Attention.groupedMask(additive, groupSize()); // (B, 1, g*T, S)
    Rotary.Factors rope = rotary(positions); // 4 x (B, T, 1, hs), (hs, hs)
    NDArray x = hidden(tokens, layer -> (attn, h) -> attn.forward(h, rope, grouped, cache, layer)); // (B, T, C)
    if (cache != null) {
      cache.advance(Math.toIntExact(tokens.getShape().get(1)));
    }
    return x;
  }

  /** The rotary factors of a full pass, the queries' carrying the attention scale 1/sqrt(hs). */
  private Rotary.Factors rotary(NDArray positions) {
    return rotary.factors(positions, dtype, 1.0 / Math.sqrt(config.headDim()));
  }

  /** Query heads per kv head. */
  private int groupSize() {
    return config.numHeads() / config.numKvHeads();
  }

  private NDArray hidden(NDArray tokens, IntFunction<BiFunction<Attention, NDArray, NDArray>> attention) {
    NDArray x = Embedding.embedding(tokens, wte, ai.djl.ndarray.types.SparseFormat.DENSE).head(); // (B, T, C)
    for (int i = 0; i < blocks.size(); i++) {
      x = blocks.get(i).forward(x, attention.apply(i)); // (B, T, C)
    }
    return x;
  }

  private NDArray head(NDArray x) {
    return Linear.linear(norm.forward(x), lmHead).head(); // (B, T, V)
  }

  /** The LM head on the last column of x (B, T, C) only. */
  private NDArray lastLogits(NDArray x) {
    long t = x.getShape().get(1);
    NDArray last = x.get(new NDIndex().addAllDim().addIndices(t - 1)); // (B, C)
    return Linear.linear(norm.forward(last), lmHead).head(); // (B, V)
  }

  /** A cache for incremental decoding of {@code batch} rows up to {@code width} positions; close it (or its parent). */
  public KvCache newCache(NDManager parent, int batch, int width) {
    return new KvCache(parent, config.numLayers(), batch, config.numKvHeads(), config.headDim(), width, dtype);
  }

  /**
   * Incremental decoding of one generation: a preallocated cache, the additive mask row of the
   * filled columns, and the single-token step's fused matrices of the current parameters (shared
   * between decodings, see {@link #parametersChanged}).
   */
  public Decoding decoding(NDManager parent, int batch, int width) {
    return new Decoding(parent, batch, width, HostArray.possible(device(), dtype));
  }

  /** {@link #decoding} through libtorch ops only, also where the step could run on the host (tests). */
  Decoding decodingWithOps(NDManager parent, int batch, int width) {
    return new Decoding(parent, batch, width, false);
  }

  /**
   * Gradients off on the calling thread until closed, then back as they were: libtorch's grad
   * mode is per thread, and sampling must not record a graph whichever thread calls it.
   */
  public static NoGradient noGradient() {
    boolean was = JniUtils.isGradMode();
    JniUtils.setGradMode(false);
    return new NoGradient(was);
  }

  /** Restores the calling thread's grad mode on close. */
  public record NoGradient(boolean was) implements AutoCloseable {
    @Override
    public void close() {
      JniUtils.setGradMode(was);
    }
  }

  /**
   * Prefill over the prompts, then one token per row and step. A step runs the fused matrices on
   * (B, C) rows, writes the new keys and values into the cache in place and attends to its filled
   * prefix; the mask's new column is opened with one write instead of rebuilding (B, T, S) masks,
   * and when no prompt is padded a step needs no mask at all. On the CPU in float32 the rotation
   * and the cache writes run in Java on the arrays' memory ({@link Attention#stepOnHost}).
   */
  public final class Decoding implements AutoCloseable {
    private final NDManager manager;
    private final KvCache cache;
    private final StepMatrices matrices;
    private final Block.StepWeights[] weights;
    private final NDArray head; // (V, C+1)  final norm's weight folded in, zero for the constant column
    private final NDArray column; // (B, 1)  the residual stream's extra column in a step (RmsNorm.step)
    private final NDArray halfTurn; // (hs, 2hs)
    private final float[][] turns; // (W, 2hs)
    private final int batch;
    private NDArray visible; // (B, 1, 1, 1, W)
    private final NDArray opened; // (B, 1, 1, 1, 1)  zeros: a column's mask once it is filled
    /** Whether some prompt is left-padded: only then does a step need its mask. */
    private boolean padded;
    /** The rotated queries of a single-token step, (B, nkv, g, hs), when the step runs on the host; else null. */
    private final HostArray queries;
    private boolean closed;

    private Decoding(NDManager parent, int batch, int width, boolean onHost) {
      this.manager = parent.newSubManager();
      this.batch = batch;
      this.cache = newCache(manager, batch, width);
      this.matrices = acquireStepMatrices();
      this.weights = matrices.weights;
      this.head = matrices.head; // (V, C+1)
      this.column = norm.stepColumn(manager, batch, dtype); // (B, 1)
      this.halfTurn = rotary.halfTurn(manager, dtype); // (hs, 2hs)
      this.turns = rotary.turns(width);
      this.opened = manager.zeros(new Shape(batch, 1, 1, 1, 1), dtype); // (B, 1, 1, 1, 1)
      this.queries = onHost && cache.onHost() ? HostArray.zeros(manager, new Shape(batch, config.numKvHeads(),
          groupSize(), config.headDim())) : null; // (B, nkv, g, hs)
    }

    /** The cache's filled length S. */
    public int length() {
      return cache.length();
    }

    /** Whether the steps rotate and write the cache in Java ({@link Attention#stepOnHost}). */
    boolean onHost() {
      return queries != null;
    }

    /**
     * Runs the left-padded prompts tokens (B, P) at positions (B, P), {@code valid} marking real
     * tokens, through the cache and returns the last column's logits, flat (B * V).
     */
    public float[] prefill(int[][] tokens, int[][] positions, boolean[][] valid) {
      int p = tokens[0].length;
      int w = cache.width();
      float[] causal = new float[batch * p * p];
      float[] open = new float[batch * w];
      java.util.Arrays.fill(causal, Masks.HIDDEN);
      java.util.Arrays.fill(open, Masks.HIDDEN);
      padded = false;
      for (int r = 0; r < batch; r++) {
        for (int j = 0; j < p; j++) {
          padded |= !valid[r][j];
          if (valid[r][j]) {
            open[r * w + j] = 0f;
            for (int i = j; i < p; i++) {
              causal[(r * p + i) * p + j] = 0f;
            }
          }
        }
      }
      visible = manager.create(open, new Shape(batch, 1, 1, 1, w)).toType(dtype, false); // (B, 1, 1, 1, W)
      try (NDManager step = manager.newSubManager()) {
        NDArray mask = step.create(causal, new Shape(batch, 1, 1, p, p)).toType(dtype, false); // (B, 1, 1, P, P)
        NDArray x = run(step, tokens, positions, mask).reshape(batch, p, config.hiddenSize() + 1L); // (B, P, C+1)
        NDArray last = x.get(new NDIndex().addAllDim().addIndices(p - 1)); // (B, C+1)
        return logits(last); // (B, V)
      }
    }

    /** Feeds one token per row at its position (B) and returns the logits, flat (B * V). */
    public float[] step(int[] tokens, int[] positions) {
      int s = cache.length() + 1;
      KvCache.write(visible, 4, s - 1, opened); // (B, 1, 1, 1, W)  the new column opens
      try (NDManager step = manager.newSubManager()) {
        NDArray mask = null; // nothing hidden: every filled column is a real token
        if (padded) {
          mask = KvCache.columns(visible, 4, 0, s); // (B, 1, 1, 1, S)
          mask.attach(step);
        }
        int[][] one = new int[batch][1];
        int[][] at = new int[batch][1];
        for (int r = 0; r < batch; r++) {
          one[r][0] = tokens[r];
          at[r][0] = positions[r];
        }
        return logits(run(step, one, at, mask)); // (B, V)
      }
    }

    /**
     * tokens (B, T) at positions (B, T) through every layer and the cache: the residual stream
     * (B*T, C+1), its last column the constant the step's one-op norm needs ({@link RmsNorm#step}).
     */
    private NDArray run(NDManager step, int[][] tokens, int[][] positions, NDArray mask) {
      int t = tokens[0].length;
      NDArray ids = step.create(tokens); // (B, T)
      NDArray e = Embedding.embedding(ids, wte, ai.djl.ndarray.types.SparseFormat.DENSE).head(); // (B, T, C)
      NDArray rows = Attention.free(e.reshape(batch * t, config.hiddenSize()), e); // (B*T, C)
      NDArray c = t == 1 ? column : norm.stepColumn(step, batch * (long) t, dtype); // (B*T, 1)
      NDArray x = Attention.free(NDArrays.concat(new NDList(rows, c), 1), rows); // (B*T, C+1)
      IntFunction<Block.StepAttention> attention = queries != null ? onHost(step, t, positions, mask) : withOps(step, t, positions, mask);
      for (int i = 0; i < blocks.size(); i++) {
        x = blocks.get(i).step(x, weights[i], attention.apply(i)); // (B*T, C+1)
      }
      cache.advance(t);
      return x;
    }

    /** Each layer's attention step through libtorch ops, with the rotary factors cs (B, T, heads, 2hs) of every head. */
    private IntFunction<Block.StepAttention> withOps(NDManager step, int t, int[][] positions, NDArray mask) {
      int heads = config.numHeads() + 2 * config.numKvHeads();
      NDArray factors = step.create(Rotary.stepFactors(positions, turns, config.numHeads() + config.numKvHeads(),
          config.numKvHeads()), new Shape(batch, t, heads, 2L * config.headDim())); // (B, T, heads, 2hs)
      NDArray cs = factors.getDataType() == dtype ? factors : factors.toType(dtype, false); // (B, T, heads, 2hs)
      return layer -> (attn, h, x, projection) -> attn.step(h, x, batch, t, projection, halfTurn, cs, mask, cache, layer);
    }

    /** Each layer's attention step with rotation and cache writes in Java, into the step's queries (B, nkv, g*T, hs). */
    private IntFunction<Block.StepAttention> onHost(NDManager step, int t, int[][] positions, NDArray mask) {
      HostArray q = t == 1 ? queries : HostArray.zeros(step, new Shape(batch, config.numKvHeads(),
          (long) groupSize() * t, config.headDim())); // (B, nkv, g*T, hs)
      return layer -> (attn, h, x, projection) -> attn.stepOnHost(h, x, batch, t, projection, positions, turns, q, mask, cache, layer);
    }

    private float[] logits(NDArray x) { // x: (B, C+1)
      NDArray h = RmsNorm.step(x); // (B, C+1)
      return Linear.linear(h, head).head().toFloatArray(); // (B, V)
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        manager.close();
        releaseStepMatrices(matrices, 1);
      }
    }
  }

  /** A manager for one step's temporaries on this model's device; close it after the step. */
  public NDManager newStepManager() {
    return manager.newSubManager();
  }

  public ModelConfig config() {
    return config;
  }

  public DataType dataType() {
    return dtype;
  }

  public Device device() {
    return manager.getDevice();
  }

  /**
   * Parameters by Hugging Face name, in state-dict order. Whoever changes them in place (an
   * optimizer step) calls {@link #parametersChanged} afterwards.
   */
  public Map<String, NDArray> parameters() {
    return params;
  }

  /**
   * Tells the model that its parameters changed in place: the next {@link #decoding} rebuilds the
   * step's fused matrices from them (a decoding already running keeps the ones it started with).
   */
  public synchronized void parametersChanged() {
    parameterVersion++;
  }

  /**
   * The decoding step's fused matrices (every block's {@link Block.StepWeights} and the LM head
   * with the final norm folded in), built from the parameters once per parameter version in the
   * model's own manager and shared by every decoding until the parameters change: building them
   * copies every weight matrix, which per generate call cost a whole model's worth of memory
   * traffic and, while it ran, of memory. Decodings hold them by count; stale ones are freed when
   * the last decoding using them closes.
   */
  private final class StepMatrices {
    final long version;
    final NDManager owner;
    final Block.StepWeights[] weights;
    final NDArray head; // (V, C+1)  final norm's weight folded in, zero for the constant column
    int users;
    boolean stale;

    StepMatrices(long version) {
      this.version = version;
      this.owner = manager.newSubManager();
      try (NoGradient off = noGradient()) {
        this.weights = new Block.StepWeights[blocks.size()];
        for (int i = 0; i < weights.length; i++) {
          Block.StepWeights w = blocks.get(i).stepWeights(owner);
          weights[i] = new Block.StepWeights(stored(w.attention()), stored(w.mlp()));
        }
        this.head = stored(norm.stepInput(lmHead, owner)); // (V, C+1)
      }
    }
  }

  private static NDList stored(NDList matrices) {
    NDList out = new NDList();
    for (NDArray w : matrices) {
      out.add(stored(w));
    }
    return out;
  }

  /**
   * A step matrix w (R, K) as the same (R, K) values stored column by column: a transposed view of
   * a contiguous (K, R) copy. libtorch's linear then hands MKL an operand it needs no transpose
   * of, which makes the (B, K) x (K, R) products of decoding some 5-10% faster (decoding 2-3%,
   * measured alternating both layouts); w itself is freed.
   */
  private static NDArray stored(NDArray w) {
    Shape s = w.getShape();
    NDArray wT = w.transpose(); // (K, R)  a view
    NDArray copy = wT.reshape(s.get(1), s.get(0)); // (K, R)  contiguous
    return Attention.free(copy.transpose(), wT, w, copy); // (R, K)  the view keeps the copy's storage
  }

  private synchronized StepMatrices acquireStepMatrices() {
    if (stepMatrices == null || stepMatrices.version != parameterVersion) {
      if (stepMatrices != null) {
        stepMatrices.stale = true;
        releaseStepMatrices(stepMatrices, 0);
      }
      stepMatrices = new StepMatrices(parameterVersion);
    }
    stepMatrices.users++;
    return stepMatrices;
  }

  private synchronized void releaseStepMatrices(StepMatrices m, int released) {
    m.users -= released;
    if (m.stale && m.users == 0) {
      m.owner.close();
    }
  }

  /** Turns on gradient tracking for every parameter (training). */
  public void requireGradients() {
    params.values().forEach(p -> p.setRequiresGradient(true));
  }

  /** Arrays currently held by the model's manager and its live sub-managers (for leak checks). */
  public int managedArrayCount() {
    return manager.getManagedArrays().size();
  }

  @Override
  public void close() {
    manager.close();
  }

  private static TreeSet<String> expectedNames(ModelConfig c) {
    return new TreeSet<>(shapes(c).keySet());
  }

  private static void check(java.util.Set<String> have, TreeSet<String> want) {
    if (!new TreeSet<>(have).equals(want)) {
      TreeSet<String> extra = new TreeSet<>(have);
      extra.removeAll(want);
      TreeSet<String> missing = new TreeSet<>(want);
      missing.removeAll(have);
      throw new IllegalArgumentException("parameter names differ from the config's: missing " + missing + ", unexpected " + extra);
    }
  }
}
