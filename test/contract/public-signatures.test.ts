/**
 * No internal type in a public signature (issue 10, STYLE.md "Packaging"): every type that an
 * exported name of a public entry point mentions (parameters, results, properties, public
 * members of exported classes, base types), when it is declared in a protocol package, is
 * itself exported by one of that package's public entry points. Runs on the sources with the
 * TypeScript compiler API, so no build is needed.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const entries: Record<string, string[]> = {
  finger: ['index', 'exports/server', 'exports/client', 'testing/index'],
  pop3: ['index', 'exports/server', 'testing/index'],
  ftp: ['index', 'exports/server', 'exports/client', 'testing/index'],
};
// A type alias exported under another name is the same type: `Pop3ServerOptions = Pop3Options`.
const aliasesOfPublicTypes = new Set(['Pop3Options']);

it('every type a public export mentions is public too', { timeout: 60_000 }, () => {
  const files = Object.entries(entries).flatMap(([p, es]) => es.map((e) => `${repo}packages/${p}/src/${e}.ts`));
  const config = ts.getParsedCommandLineOfConfigFile(`${repo}tsconfig.test.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const program = ts.createProgram(files, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const isOurs = (s: ts.Symbol): boolean => (s.declarations ?? []).some((d) => /packages\/(finger|pop3|ftp)\/src\//.test(d.getSourceFile().fileName));
  const publicSymbols = new Set<ts.Symbol>();
  for (const f of files) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(f)!)!;
    for (const e of checker.getExportsOfModule(module)) publicSymbols.add(resolve(e));
  }
  const problems = new Set<string>();
  const visited = new Set<ts.Symbol>();
  const typeFlags = ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Enum;

  function visitNode(node: ts.Node, owner: string): void {
    let name: ts.Node | undefined;
    if (ts.isTypeReferenceNode(node)) name = node.typeName;
    else if (ts.isExpressionWithTypeArguments(node)) name = node.expression;
    else if (ts.isTypeQueryNode(node)) name = node.exprName;
    const symbol = name && checker.getSymbolAtLocation(name);
    if (symbol) visitSymbol(resolve(symbol), owner);
    ts.forEachChild(node, (child) => visitNode(child, owner));
  }
  function visitSymbol(symbol: ts.Symbol, owner: string): void {
    if (!isOurs(symbol)) return;
    if (!publicSymbols.has(symbol)) {
      if (symbol.flags & typeFlags && !aliasesOfPublicTypes.has(symbol.name)) problems.add(`${owner} mentions ${symbol.name}`);
      return;
    }
    if (visited.has(symbol)) return;
    visited.add(symbol);
    for (const d of symbol.declarations ?? []) {
      if (ts.isFunctionDeclaration(d)) {
        // Only the signature: the body is implementation.
        for (const t of d.typeParameters ?? []) visitNode(t, symbol.name);
        for (const p of d.parameters) visitNode(p, symbol.name);
        if (d.type) visitNode(d.type, symbol.name);
        continue;
      }
      if (!ts.isClassDeclaration(d)) {
        visitNode(d, symbol.name);
        continue;
      }
      for (const h of d.heritageClauses ?? []) visitNode(h, symbol.name);
      for (const m of d.members) {
        if (m.name && ts.isPrivateIdentifier(m.name)) continue;
        if (ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        // Only signatures: a method's body is implementation.
        if ((ts.isMethodDeclaration(m) || ts.isConstructorDeclaration(m) || ts.isGetAccessorDeclaration(m)) && m.body) {
          for (const p of m.parameters) visitNode(p, symbol.name);
          if (m.type) visitNode(m.type, symbol.name);
          continue;
        }
        visitNode(m, symbol.name);
      }
    }
  }
  for (const s of publicSymbols) visitSymbol(s, s.name);
  expect([...problems].sort()).toEqual([]);
});
