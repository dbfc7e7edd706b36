// Headers added to the requests a workflow step sends, supplied at request time by a module that
// asked for them (monitoring's W3C `traceparent`). The engine asks `current` once per HTTP step:
// with no provider registered it is undefined and nothing is computed or added.
export interface OutboundStep {
  messageId: number;
  runId: number;
  /** The run's attempt executing the step (a step's row records it too). */
  attempt: number;
  /** The step's path in the workflow (`0`, `2/then/0`, `3/each/5/1`). */
  stepPath: string;
}

export type OutboundHeaders = (step: OutboundStep) => Record<string, string> | undefined;

export class OutboundHeaderProviders {
  private readonly list: OutboundHeaders[] = [];
  /** All providers as one (a later provider's header wins); undefined while there are none. */
  current: OutboundHeaders | undefined;

  /** Registers a provider; the function returned removes it. */
  add(provider: OutboundHeaders): () => void {
    this.list.push(provider);
    this.update();
    return () => {
      const i = this.list.indexOf(provider);
      if (i >= 0) this.list.splice(i, 1);
      this.update();
    };
  }

  private update(): void {
    const list = [...this.list];
    this.current = list.length === 0 ? undefined : list.length === 1 ? list[0] : (step) => {
      let out: Record<string, string> | undefined;
      for (const p of list) {
        const h = p(step);
        if (h) out = { ...out, ...h };
      }
      return out;
    };
  }
}
