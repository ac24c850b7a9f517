// Python itself as the truth for the pieces of Ansible's INI reader that are Python's: ast.literal_eval and
// shlex.split(comments=True). Undefined where python3 is not installed (the tables still run).
import { execFileSync } from 'node:child_process';

const script = String.raw`
import ast, json, shlex, sys, warnings
warnings.simplefilter("ignore")
request = json.load(sys.stdin)
def literal(text):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return {"text": text}
    except Exception as error:
        return {"error": type(error).__name__}
    class Unsupported(Exception):
        pass
    def plain(v):
        if isinstance(v, (tuple, list)): return [plain(x) for x in v]
        if isinstance(v, dict): return {("null" if k is None else json.dumps(k) if isinstance(k, bool) else str(k)): plain(x) for k, x in v.items()}
        if isinstance(v, bytes): return v.decode("utf-8", "replace")
        if isinstance(v, (complex, set, frozenset)) or v is Ellipsis: raise Unsupported()
        return v
    try:
        return {"value": plain(value)}
    except Unsupported:
        return {"unsupported": repr(value)}
def split(line):
    try:
        return {"words": shlex.split(line, comments=True)}
    except ValueError as error:
        return {"error": str(error)}
json.dump({"literal": [literal(t) for t in request["literal"]], "split": [split(l) for l in request["split"]]}, sys.stdout)
`;

export interface PythonReadings {
  literal: ({ value: unknown } | { text: string } | { error: string } | { unsupported: string })[];
  split: ({ words: string[] } | { error: string })[];
}

export function pythonReadings(literal: string[], split: string[]): PythonReadings | undefined {
  try {
    const out = execFileSync('python3', ['-c', script], { input: JSON.stringify({ literal, split }), encoding: 'utf8', timeout: 30_000 });
    return JSON.parse(out) as PythonReadings;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
