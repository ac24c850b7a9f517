// Python itself as the truth for the pieces of Ansible's INI reader that are Python's: ast.literal_eval and
// shlex.split(comments=True). Undefined where python3 is not installed (the tables still run).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The Python Ansible runs on (Debian's, with its ansible and yaml packages), else whatever python3 is first on the PATH. */
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

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
def command_line(text):
    try:
        from ansible.parsing.splitter import join_args, split_args
    except ImportError:
        return {"missing": "ansible"}
    try:
        return {"text": join_args(split_args(text))}
    except Exception as error:
        return {"error": type(error).__name__}
def yaml_value(text):
    try:
        import yaml
    except ImportError:
        return {"missing": "yaml"}
    try:
        return {"value": yaml.safe_load(text)}
    except yaml.YAMLError as error:
        return {"error": str(error).splitlines()[0]}
json.dump({
    "literal": [literal(t) for t in request.get("literal", [])],
    "split": [split(l) for l in request.get("split", [])],
    "commandLine": [command_line(t) for t in request.get("commandLine", [])],
    "yaml": [yaml_value(t) for t in request.get("yaml", [])],
}, sys.stdout, default=str)
`;

export interface PythonReadings {
  literal: ({ value: unknown } | { text: string } | { error: string } | { unsupported: string })[];
  split: ({ words: string[] } | { error: string })[];
  /** Ansible's join_args(split_args(text)): what its shell and command modules run. */
  commandLine: ({ text: string } | { error: string } | { missing: string })[];
  /** PyYAML's safe_load (Ansible's YAML reader). */
  yaml: ({ value: unknown } | { error: string } | { missing: string })[];
}

export interface PythonRequest {
  literal?: string[];
  split?: string[];
  commandLine?: string[];
  yaml?: string[];
}

export function pythonReadings(literal: string[], split: string[]): PythonReadings | undefined {
  return askPython({ literal, split });
}

export function askPython(request: PythonRequest): PythonReadings | undefined {
  try {
    const out = execFileSync(python, ['-c', script], { input: JSON.stringify(request), encoding: 'utf8', timeout: 30_000 });
    return JSON.parse(out) as PythonReadings;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
