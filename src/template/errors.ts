// Errors raised while parsing or evaluating templates. The engine adds the file:line of the playbook.
import { ExitCode, OrchestrateError } from '../errors.js';

export interface TemplatePosition {
  /** 1-based, inside the template text. */
  line: number;
  col: number;
}

export class TemplateError extends OrchestrateError {
  constructor(
    message: string,
    /** The undefined name (or `obj.attr` path) for undefined-variable errors. */
    readonly variable?: string,
    /** Where in the template text a syntax error is. */
    readonly position?: TemplatePosition,
  ) {
    super(message, 'template.invalid', ExitCode.config);
  }
}

export function positionOf(source: string, offset: number): TemplatePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** A syntax error that shows the line of the template and where on it the problem is. */
export function syntaxError(source: string, offset: number, problem: string): TemplateError {
  const position = positionOf(source, offset);
  const lineText = source.split('\n')[position.line - 1] ?? '';
  const from = Math.max(0, position.col - 60);
  const excerpt = (from > 0 ? '…' : '') + lineText.slice(from, from + 120) + (lineText.length > from + 120 ? '…' : '');
  return new TemplateError(
    `template syntax error at line ${position.line}, column ${position.col}: ${problem} in ${JSON.stringify(excerpt)}`,
    undefined,
    position,
  );
}
