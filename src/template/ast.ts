// Syntax trees of expressions and templates. Offsets point into the template text (for messages and
// for describing Deferred values by the text the author wrote).

interface Span {
  start: number;
  end: number;
}

export interface CallArguments {
  args: Expr[];
  kwargs: [string, Expr][];
}

export type Expr = Span &
  (
    | { type: 'literal'; value: unknown }
    | { type: 'name'; name: string }
    | { type: 'list'; items: Expr[] }
    | { type: 'dict'; entries: [Expr, Expr][] }
    | { type: 'attr'; object: Expr; name: string }
    | { type: 'item'; object: Expr; index: Expr }
    | { type: 'slice'; object: Expr; lower?: Expr; upper?: Expr; step?: Expr }
    | ({ type: 'call'; callee: Expr } & CallArguments)
    | ({ type: 'filter'; input: Expr; name: string } & CallArguments)
    | ({ type: 'test'; input: Expr; name: string; negated: boolean } & CallArguments)
    | { type: 'unary'; op: 'not' | '-' | '+'; operand: Expr }
    | { type: 'binary'; op: string; left: Expr; right: Expr }
    | { type: 'compare'; first: Expr; rest: [string, Expr][] }
    | { type: 'conditional'; test: Expr; then: Expr; otherwise?: Expr }
  );

export type TemplateNode =
  | { type: 'text'; text: string }
  | { type: 'output'; expr: Expr }
  | { type: 'if'; branches: { test: Expr; body: TemplateNode[] }[]; otherwise?: TemplateNode[] }
  | { type: 'for'; targets: string[]; iterable: Expr; filter?: Expr; body: TemplateNode[]; otherwise?: TemplateNode[] }
  | { type: 'set'; targets: string[]; value: Expr };
