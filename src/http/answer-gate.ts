/**
 * Work that waits for the HTTP answers in progress.
 *
 * A CRM that sends many makeCall requests at once waits for every answer; the
 * calls those requests accepted are placed by work that shares the daemon's one
 * thread with the answers still to come (an AMI Originate, and the burst of
 * Asterisk events it sets off; an ARI POST and its events). So a placed call
 * waits until no request is in progress (the answers of the burst have left),
 * and at most MAX_WAIT_MS, so that steady traffic never holds a call back for
 * longer. The call is already in SQLite by then: waiting only moves the moment
 * Asterisk is asked to ring the operator.
 *
 * "In progress" is from the moment the request reaches the app until its
 * answer is ready (the COMMIT of what it wrote included); a stream's answer is
 * ready when its headers are.
 */

/** The longest a held task waits for the requests in progress (ms). */
export const MAX_WAIT_MS = 50;

export class AnswerGate {
  private inProgress = 0;
  private held: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private releasing = false;

  /**
   * `failed` gets the error of a task that throws, after the other tasks of its release have run;
   * by default it throws it again, as a task on setImmediate would.
   */
  constructor(
    private readonly maxWaitMs = MAX_WAIT_MS,
    private readonly failed: (err: unknown) => void = (err) => {
      throw err;
    },
  ) {}

  /** A request has arrived. */
  begin(): void {
    this.inProgress++;
  }

  /** A request's answer is ready. The held tasks run on a later turn if no other request arrived meanwhile. */
  end(): void {
    this.inProgress = Math.max(0, this.inProgress - 1);
    if (this.inProgress === 0 && this.held.length > 0 && !this.releasing) {
      this.releasing = true;
      // after the poll phase: requests that arrived together with the answers count as in progress again
      setImmediate(() => {
        this.releasing = false;
        if (this.inProgress === 0) this.release();
      });
    }
  }

  /** Runs `task` on a later turn of the event loop, once no request is in progress or MAX_WAIT_MS after it was handed over. */
  after(task: () => void): void {
    if (this.inProgress === 0 && this.held.length === 0) {
      setImmediate(task);
      return;
    }
    this.held.push(task);
    this.timer ??= setTimeout(() => this.release(), this.maxWaitMs);
  }

  /** Requests in progress and tasks held (for tests). */
  get state(): { inProgress: number; held: number } {
    return { inProgress: this.inProgress, held: this.held.length };
  }

  /** Runs the held tasks now (the daemon stopping: the calls accepted are placed before the links close). */
  flush(): void {
    if (this.held.length > 0) this.release();
  }

  private release(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const tasks = this.held;
    this.held = [];
    // one task that throws does not hold the others back
    const errors: unknown[] = [];
    for (const task of tasks) {
      try {
        task();
      } catch (err) {
        errors.push(err);
      }
    }
    for (const err of errors) this.failed(err);
  }
}
