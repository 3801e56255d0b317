// Setting the clock of this process, and so of a hub the test runs in it: only Date is faked, every timer (the
// driver's, the servers', the jobs') runs as ever. Tests that set it restore it with jest.useRealTimers().

/** Sets the clock to `at`; with `running`, it goes on from there, else it stands still until set again. */
export function setClock(at: Date | string, options: { running?: boolean } = {}): void {
  jest.useFakeTimers({
    now: new Date(at),
    advanceTimers: options.running ?? false,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}
