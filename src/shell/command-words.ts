// The words of the simple command the shell-context scanner is in, for the two places where what a value
// means depends on the command around it: the word list of `for NAME in ...` (sh splits an unquoted $var
// there) and bash's arithmetic contexts, where an operand is evaluated, and `a[$(cmd)]` runs `cmd`.

const RESERVED_BEFORE_COMMAND = new Set(['{', '!', 'if', 'then', 'elif', 'else', 'while', 'until', 'do', 'time']);

export class CommandWords {
  /** Words of the current simple command so far; `word` is the one being read. */
  private words: string[] = [];
  private word = '';
  /**
   * Inside bash's `[[ ... ]]`, whose operands (of -eq and the like) bash evaluates as arithmetic. Kept apart
   * from `words`: `&&`, `||` and `(` inside the test end no command.
   */
  private inDoubleBracket = false;

  /** Follow one character of command text: blanks end a word, operators end the command. */
  track(c: string): void {
    if (c === ' ' || c === '\t') {
      this.endWord();
      if (this.word !== '') this.words.push(this.word);
      this.word = '';
    } else if (/[\n;&|()<>]/.test(c)) {
      this.endWord();
      if (c === '\n' || c === ';') this.inDoubleBracket = false;
      this.newCommand();
    } else {
      this.word += c;
    }
  }

  /** A new command starts (as inside `$(`). */
  newCommand(): void {
    this.words = [];
    this.word = '';
  }

  private endWord(): void {
    if (this.word === '[[') this.inDoubleBracket = true;
    else if (this.word === ']]') this.inDoubleBracket = false;
  }

  /** In the word list of `for NAME in ...`, where sh splits an unquoted $var into words. */
  inForList(): boolean {
    const [keyword, name, inWord] = this.words;
    return this.word === '' && keyword === 'for' && name !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && inWord === 'in';
  }

  /**
   * In a `[[ ... ]]` test, a `let` command or a `declare -i` (`local`, `typeset`) assignment, where bash reads
   * operands as arithmetic.
   */
  inBashArithmetic(): boolean {
    // Reserved words before a command (`if let ...`, `{ local -i ...`) leave it the same command.
    const start = this.words.findIndex((w) => !RESERVED_BEFORE_COMMAND.has(w));
    const [first, ...rest] = start < 0 ? [] : this.words.slice(start);
    const integerDeclaration = ['declare', 'local', 'typeset'].includes(first ?? '') && rest.some((w) => /^-[A-Za-z]*i/.test(w));
    return this.inDoubleBracket || first === 'let' || integerDeclaration;
  }
}
