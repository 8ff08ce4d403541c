// Prints one plain closing line, "tests: N passed, N failed, N skipped", after vitest's own
// summary, so any CI log reader can count the run. A file that failed outside its tests (an
// import error, a failing beforeAll) and an unhandled error each count as one failure, so the
// line never says "0 failed" for a run that failed.
export default class SummaryReporter {
  onTestRunEnd(testModules, unhandledErrors = []) {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') counts.passed++;
        else if (state === 'failed') failedHere++;
        else counts.skipped++;
      }
      const moduleFailed = module.state() === 'failed' || (module.errors?.().length ?? 0) > 0;
      counts.failed += failedHere === 0 && moduleFailed ? 1 : failedHere;
    }
    counts.failed += unhandledErrors.length;
    process.stdout.write(`tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}
