import { isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { z } from 'zod';

/** One problem in a config file, with where it is when that is known. */
export interface ConfigProblem {
  /** The key path ("pop3.port"), or empty for the whole file. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * Where the node at `path` starts in the YAML source: its value, or its key when `key` is set
 * (an unknown key, a file that does not exist). A path that does not exist (a missing required
 * key) stops at the deepest map that does: the problem is placed at the section it belongs to.
 */
export function positionOf(
  doc: Document,
  lines: LineCounter,
  path: ReadonlyArray<PropertyKey>,
  key = false,
): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let place: Node | undefined = isNode(node) ? node : undefined;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      if (last && key && isNode(pair.key)) {
        place = pair.key;
        break;
      }
      node = pair.value;
      // A key with no value (`users:`) has no node: its key is the place.
      place = isNode(pair.value) ? pair.value : isNode(pair.key) ? pair.key : place;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment];
      if (!isNode(item)) break;
      node = item;
      place = item;
    } else break;
  }
  const offset = place?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}

/** Zod's issues as problems placed in the file: an unknown key is placed at that key. */
export function problemsFromIssues(error: z.ZodError, doc: Document, lines: LineCounter): ConfigProblem[] {
  return error.issues.map((issue) => {
    const unknownKeys = issue.code === 'unrecognized_keys' ? (issue as { keys: string[] }).keys : undefined;
    const target = unknownKeys?.length ? [...issue.path, unknownKeys[0]!] : issue.path;
    const where = positionOf(doc, lines, target, unknownKeys !== undefined);
    return { path: issue.path.map(String).join('.'), message: issue.message, ...(where ? { line: where.line, column: where.column } : {}) };
  });
}

/** "pop3.port (line 12, column 9): Too big: expected number to be <=65535". */
export function describeProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? '' : ` (line ${problem.line}, column ${problem.column})`;
  return `${problem.path || '(top level)'}${where}: ${problem.message}`;
}
