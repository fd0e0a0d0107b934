package io.thinkstream.sampler.internal;

import io.thinkstream.avro.ExploreRequest;
import io.thinkstream.avro.ExploreResult;
import java.util.Arrays;
import java.util.List;

/** The k completions of one first-pit exploration request, filled in as their batches finish. */
public final class ExploreDraft {
  private final Ledger.Entry entry;
  private final ExploreRequest request;
  private final String[] completions;

  public ExploreDraft(Ledger.Entry entry, ExploreRequest request) {
    this.entry = entry;
    this.request = request;
    this.completions = new String[Math.max(0, request.getK())];
  }

  public Ledger.Entry entry() {
    return entry;
  }

  public ExploreRequest request() {
    return request;
  }

  public int k() {
    return completions.length;
  }

  public void set(int j, String text) {
    completions[j] = text;
  }

  /** correctCount -1: the sampler holds no gold answers, the rewards service verifies. */
  public ExploreResult toResult() {
    return new ExploreResult(request.getSampleId(), request.getStepIndex(), List.copyOf(Arrays.asList(completions)), -1);
  }
}
