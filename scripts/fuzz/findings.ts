import { ERRORS } from '../../src/errors';

/**
 * What a fuzz target saw: answers counted by error code (or status), and findings, which are
 * what must not happen (an uncoded or INTERNAL answer, a 5xx, an undecodable frame, a closed
 * connection without a close frame, a book that differs from the model). Each kind of finding
 * keeps its count and the first few inputs that caused it, so a run's JSON is enough to replay.
 */
export class Findings {
  readonly answers: Record<string, number> = {};
  readonly findings: Record<string, { count: number; examples: string[] }> = {};

  answer(what: string): void {
    this.answers[what] = (this.answers[what] ?? 0) + 1;
  }

  find(kind: string, example: string): void {
    const f = (this.findings[kind] ??= { count: 0, examples: [] });
    f.count++;
    if (f.examples.length < 5) f.examples.push(example.length > 300 ? `${example.slice(0, 300)}… (${example.length} chars)` : example);
  }

  /** An error answer's code: counted when the catalog has it, a finding when not (or INTERNAL). */
  code(code: unknown, input: string): void {
    if (typeof code !== 'string' || !Object.hasOwn(ERRORS, code)) this.find('uncoded error answer', `${String(code)} <- ${input}`);
    else if (code === 'INTERNAL') this.find('INTERNAL error answer', input);
    this.answer(String(code));
  }

  get count(): number {
    return Object.values(this.findings).reduce((n, f) => n + f.count, 0);
  }
}

/** A printable form of an input (binary as hex, cut short). */
export function show(input: string | Uint8Array): string {
  return typeof input === 'string' ? input : `<${input.length} bytes ${Buffer.from(input.subarray(0, 64)).toString('hex')}>`;
}
