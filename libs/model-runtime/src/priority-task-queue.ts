import { Piscina } from 'piscina';
import type { PiscinaTask, TaskQueue } from 'piscina';

/** Which queue a pool task waits in: interactive work runs before any batch work waiting. */
export type TaskPriority = 'interactive' | 'batch';

/** What a task given to the pool carries so the queue can tell its priority (never sent to the thread). */
export interface PrioritizedTask {
  [Piscina.queueOptionsSymbol]?: { priority: TaskPriority };
}

/**
 * Piscina's queue of tasks waiting for a thread, in two FIFO lanes: a thread that frees takes the
 * oldest interactive task, and a batch task only when none waits. Piscina's own queue is one
 * FIFO, so an interactive request's tokenization (and its inference pieces) queued behind the
 * tokenization of the dozens of batch lines a worker holds, tens of milliseconds on a small
 * model, whatever the batcher did.
 */
export class PriorityTaskQueue implements TaskQueue {
  private readonly interactive: PiscinaTask[] = [];
  private readonly batch: PiscinaTask[] = [];

  get size(): number {
    return this.interactive.length + this.batch.length;
  }

  push(task: PiscinaTask): void {
    this.laneOf(task).push(task);
  }

  unshift(task: PiscinaTask): void {
    this.laneOf(task).unshift(task);
  }

  shift(): PiscinaTask | null {
    return this.interactive.shift() ?? this.batch.shift() ?? null;
  }

  remove(task: PiscinaTask): void {
    const lane = this.laneOf(task);
    const index = lane.indexOf(task);
    if (index >= 0) lane.splice(index, 1);
  }

  private laneOf(task: PiscinaTask): PiscinaTask[] {
    const options = (task as unknown as Record<symbol, { priority?: TaskPriority } | null>)[Piscina.queueOptionsSymbol];
    return options?.priority === 'batch' ? this.batch : this.interactive;
  }
}

/** `task` tagged for `PriorityTaskQueue`. */
export function withPriority<T extends object>(task: T, priority: TaskPriority): T & PrioritizedTask {
  return Object.assign(task, { [Piscina.queueOptionsSymbol]: { priority } });
}
