// The top-level variables a template reads, for checks before anything runs.
import type { Expr, TemplateNode } from './ast.js';
import { globalFunctions } from './methods.js';

export function collectReferences(nodes: TemplateNode[], names: Set<string>, bound: ReadonlySet<string> = new Set()): void {
  const local = new Set(bound);
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        break;
      case 'output':
        collectExpr(node.expr, names, local);
        break;
      case 'set':
        collectExpr(node.value, names, local);
        node.targets.forEach((target) => local.add(target));
        break;
      case 'if':
        for (const branch of node.branches) {
          collectExpr(branch.test, names, local);
          collectReferences(branch.body, names, local);
        }
        if (node.otherwise) collectReferences(node.otherwise, names, local);
        break;
      case 'for': {
        collectExpr(node.iterable, names, local);
        const inner = new Set([...local, ...node.targets, 'loop']);
        if (node.filter) collectExpr(node.filter, names, inner);
        collectReferences(node.body, names, inner);
        if (node.otherwise) collectReferences(node.otherwise, names, local);
        break;
      }
    }
  }
}

export function collectExpr(expr: Expr, names: Set<string>, bound: ReadonlySet<string>): void {
  const visit = (node: Expr): void => collectExpr(node, names, bound);
  switch (expr.type) {
    case 'literal':
      return;
    case 'name':
      if (!bound.has(expr.name)) names.add(expr.name);
      return;
    case 'list':
      expr.items.forEach(visit);
      return;
    case 'dict':
      expr.entries.forEach(([key, value]) => {
        visit(key);
        visit(value);
      });
      return;
    case 'attr':
      visit(expr.object);
      return;
    case 'item':
      visit(expr.object);
      visit(expr.index);
      return;
    case 'slice':
      [expr.object, expr.lower, expr.upper, expr.step].forEach((part) => part && visit(part));
      return;
    case 'call':
      if (!(expr.callee.type === 'name' && Object.hasOwn(globalFunctions, expr.callee.name))) visit(expr.callee);
      expr.args.forEach(visit);
      expr.kwargs.forEach(([, value]) => visit(value));
      return;
    case 'filter':
    case 'test':
      visit(expr.input);
      expr.args.forEach(visit);
      expr.kwargs.forEach(([, value]) => visit(value));
      return;
    case 'unary':
      visit(expr.operand);
      return;
    case 'binary':
      visit(expr.left);
      visit(expr.right);
      return;
    case 'compare':
      visit(expr.first);
      expr.rest.forEach(([, node]) => visit(node));
      return;
    case 'conditional':
      visit(expr.test);
      visit(expr.then);
      if (expr.otherwise) visit(expr.otherwise);
      return;
  }
}
