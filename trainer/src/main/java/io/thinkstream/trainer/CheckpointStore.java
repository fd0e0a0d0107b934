package io.thinkstream.trainer;

import io.thinkstream.model.Checkpoints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The trainer's output directory: complete checkpoints {@code v{N}/} and, while one is being
 * written, {@code v{N}.tmp/}. A checkpoint becomes visible by one atomic rename once every file in
 * it and the manifest holding their sha256 are fsynced, so a crash leaves either the whole
 * directory or a {@code .tmp} that the next start removes.
 */
public final class CheckpointStore {
  private static final Pattern COMPLETE = Pattern.compile("v(\\d+)");
  private static final Pattern INCOMPLETE = Pattern.compile("v(\\d+)\\.tmp");

  private final Path out;

  public CheckpointStore(Path out) {
    this.out = out;
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + out, e);
    }
  }

  public Path dir(long version) {
    return out.resolve("v" + version);
  }

  /** Removes every {@code v{N}.tmp/} (a write a crash interrupted); returns what it removed. */
  public List<Path> removeIncomplete() {
    List<Path> removed = new ArrayList<>();
    for (Path p : list(INCOMPLETE)) {
      deleteTree(p);
      removed.add(p);
    }
    return removed;
  }

  /** Versions with a complete directory (a manifest inside), oldest first. */
  public List<Long> versions() {
    List<Long> v = new ArrayList<>();
    for (Path p : list(COMPLETE)) {
      if (Files.exists(p.resolve(Manifest.FILE))) {
        Matcher m = COMPLETE.matcher(p.getFileName().toString());
        m.matches();
        v.add(Long.parseLong(m.group(1)));
      }
    }
    v.sort(Comparator.naturalOrder());
    return v;
  }

  /** The newest complete checkpoint's manifest, its files checked against their sha256. */
  public Optional<Manifest> newest() {
    List<Long> v = versions();
    return v.isEmpty() ? Optional.empty() : Optional.of(verified(v.get(v.size() - 1)));
  }

  /**
   * The manifest of {@code version} after checking every file it lists; a missing file or a
   * sha256 mismatch is refused, naming the file and both hashes.
   */
  public Manifest verified(long version) {
    Path dir = dir(version);
    Manifest m = Manifest.read(dir.resolve(Manifest.FILE));
    for (Map.Entry<String, String> f : m.files().entrySet()) {
      Path file = dir.resolve(f.getKey());
      if (!Files.exists(file)) {
        throw new CorruptCheckpointException("checkpoint " + dir + " is missing " + f.getKey() + ", which its manifest lists");
      }
      String have = Checkpoints.sha256(file);
      if (!have.equals(f.getValue())) {
        throw new CorruptCheckpointException("checkpoint " + dir + ": " + f.getKey() + " has sha256 " + have
            + " but manifest.json records " + f.getValue() + "; refusing to load a corrupt checkpoint");
      }
    }
    return m;
  }

  /**
   * Publishes {@code version}: {@code files} writes every file into the temporary directory it is
   * given, then the manifest (with every file's sha256) is written last, the directory fsynced and
   * renamed to {@code v{version}/} in one step.
   */
  public Path write(long version, java.util.function.Consumer<Path> files,
      java.util.function.Function<Map<String, String>, Manifest> manifest) {
    Path tmp = out.resolve("v" + version + ".tmp");
    Path done = dir(version);
    if (Files.exists(done)) {
      throw new IllegalStateException(done + " exists already: a checkpoint version is written once");
    }
    deleteTree(tmp);
    try {
      Files.createDirectories(tmp);
      files.accept(tmp);
      Map<String, String> sha = new TreeMap<>();
      try (Stream<Path> s = Files.list(tmp)) {
        for (Path f : s.sorted().toList()) {
          sha.put(f.getFileName().toString(), Checkpoints.sha256(f));
        }
      }
      Checkpoints.writeSynced(tmp.resolve(Manifest.FILE), manifest.apply(sha).toBytes());
      Checkpoints.syncDirectory(tmp);
      Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
      Checkpoints.syncDirectory(out);
      return done;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + done, e);
    }
  }

  private List<Path> list(Pattern name) {
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(out)) {
      for (Path p : ds) {
        if (Files.isDirectory(p) && name.matcher(p.getFileName().toString()).matches()) {
          found.add(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + out, e);
    }
    return found;
  }

  static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove " + p, e);
    }
  }

  /** A checkpoint whose files do not match its manifest. */
  public static final class CorruptCheckpointException extends UncheckedIOException {
    public CorruptCheckpointException(String message) {
      super(message, new IOException(message));
    }
  }
}
