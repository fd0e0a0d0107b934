package io.thinkstream.sampler;

import io.thinkstream.model.Checkpoints;
import io.thinkstream.model.Tokenizer;
import io.thinkstream.model.Transformer;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The policy a sampler serves right now, swappable while batches run. A batch {@link #acquire}s
 * the current version and closes the lease when done; {@link #swap} installs a new version for
 * the next acquire and frees the old one only when its last lease closes, because
 * {@link Transformer#close()} frees native memory at once.
 */
public final class LivePolicy implements AutoCloseable {
  /** One loaded checkpoint: weights, tokenizer, version, and how many users still hold it. */
  public static final class Version {
    private final Transformer model;
    private final Tokenizer tokenizer;
    private final long number;
    // one count for being current, one per open lease
    private final AtomicInteger refs = new AtomicInteger(1);

    public Version(Transformer model, Tokenizer tokenizer, long number) {
      this.model = model;
      this.tokenizer = tokenizer;
      this.number = number;
    }

    public Transformer model() {
      return model;
    }

    public Tokenizer tokenizer() {
      return tokenizer;
    }

    public long number() {
      return number;
    }

    private boolean retain() {
      for (int n = refs.get(); n > 0; n = refs.get()) {
        if (refs.compareAndSet(n, n + 1)) {
          return true;
        }
      }
      return false; // freed in between: the caller reads the new current version
    }

    private void release() {
      if (refs.decrementAndGet() == 0) {
        model.close();
        if (tokenizer instanceof AutoCloseable c) {
          try {
            c.close();
          } catch (Exception ignored) {
            // a tokenizer that cannot close leaks a little native memory, nothing more
          }
        }
      }
    }
  }

  /** A version held for one batch; closing it lets a replaced version be freed. */
  public static final class Lease implements AutoCloseable {
    private final Version version;
    private boolean closed;

    private Lease(Version version) {
      this.version = version;
    }

    public Version version() {
      return version;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        version.release();
      }
    }
  }

  private volatile Version current;
  private boolean closed;

  public LivePolicy(Version initial) {
    this.current = initial;
  }

  /** The checkpoint in {@code dir} as version {@code number}, with the tokenizer it names. */
  public static Version load(Path dir, long number) {
    Transformer model = Checkpoints.load(dir, Transformer.defaultDevice());
    try {
      return new Version(model, Checkpoints.tokenizer(dir), number);
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /** The current version, held until the lease closes. */
  public Lease acquire() {
    while (true) {
      Version v = current;
      if (v.retain()) {
        return new Lease(v);
      }
    }
  }

  /** The version the next batch runs. */
  public long version() {
    return current.number();
  }

  /** Makes {@code next} current; the replaced version is freed once no batch holds it. */
  public synchronized void swap(Version next) {
    Version old = current;
    current = next;
    old.release();
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      current.release();
    }
  }
}
