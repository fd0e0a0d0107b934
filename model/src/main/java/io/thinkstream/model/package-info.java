/**
 * The policy model in DJL.
 *
 * <ul>
 *   <li>{@link io.thinkstream.model.ModelConfig} — hyperparameters, HF {@code config.json} IO.</li>
 *   <li>{@link io.thinkstream.model.Transformer} — Llama-style decoder; {@code forward(tokens,
 *       positions, mask, cache)} takes explicit position ids and an additive (B, 1, T, S) mask built
 *       with {@link io.thinkstream.model.Masks}.</li>
 *   <li>{@link io.thinkstream.model.Tokenizer} — {@link io.thinkstream.model.SyntheticTokenizer} (built
 *       in) and {@link io.thinkstream.model.HfTokenizer} ({@code tokenizer.json}).</li>
 *   <li>{@link io.thinkstream.model.Generator} (KV-cache sampling) and
 *       {@link io.thinkstream.model.Scorer} (log p(continuation | prompt)).</li>
 *   <li>{@link io.thinkstream.model.Checkpoints} — HF-named safetensors + config.json, atomic, sha256.</li>
 *   <li>{@link io.thinkstream.model.LmTrainer}, {@link io.thinkstream.model.ModelBench} — training
 *       step, benchmark (the SFT warm start that uses them lives in {@code trainer}).</li>
 * </ul>
 *
 * <p>Array lifetimes: parameters live in the model's manager; every forward pass runs inside
 * {@code model.newStepManager()} and its results die with it.
 */
package io.thinkstream.model;
