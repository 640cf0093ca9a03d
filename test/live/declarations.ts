import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** A function of a source file, where V8 places it: the line of its parameter list. */
export interface Declaration {
  /** Its name, declared or given by the variable it is assigned to; `(anonymous)` for the module's own code. */
  readonly name: string;
  /** 1-based. */
  readonly line: number;
  /** Whether its name comes from the variable it is assigned to: a loader may lose it (tsx's `__name`). */
  readonly inferred: boolean;
}

/**
 * Every function of a TypeScript or JavaScript text, read with the TypeScript compiler: what a
 * site in that file may truthfully be. The module's own code is at line 1.
 */
export function declarationsOf(text: string, fileName = 'file.ts'): Declaration[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: Declaration[] = [{ name: '(anonymous)', line: 1, inferred: false }];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const line = source.getLineAndCharacterOfPosition(node.parameters.pos).line + 1;
      const declared = node.name !== undefined && ts.isIdentifier(node.name) ? node.name.text : undefined;
      const assignedTo = ts.isVariableDeclaration(node.parent) && ts.isIdentifier(node.parent.name) ? node.parent.name.text : undefined;
      found.push({ name: declared ?? assignedTo ?? '(anonymous)', line, inferred: declared === undefined && assignedTo !== undefined });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

export function declarationsOfFile(path: string): Declaration[] {
  return declarationsOf(readFileSync(path, 'utf8'), path);
}

/** Whether a site (function name and line) is one of these functions at its declaration line. */
export function isDeclared(site: { functionName: string; line: number }, declarations: readonly Declaration[]): boolean {
  return declarations.some(
    (declaration) =>
      declaration.line === site.line &&
      (declaration.name === site.functionName || (declaration.inferred && site.functionName === '(anonymous)')),
  );
}
