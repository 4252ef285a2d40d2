// node:test reporter loaded next to the agent (same process): tells the agent when the suite
// wrapping one test file has finished, and whether it passed. Writes nothing itself.
// eslint-disable-next-line require-yield -- a reporter that only listens still has to be a generator
export default async function* agentReporter(source) {
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0) {
      const done = globalThis.__netTestFileDone;
      globalThis.__netTestFileDone = undefined;
      done?.(event.type === 'test:pass');
    }
  }
}
