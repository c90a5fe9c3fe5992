/**
 * The extended query protocol's memory on one connection: statements by name (their text and
 * parameter types, from Parse and ParameterDescription) and portals by name (the statement they
 * were bound from and their parameter values), so an Execute shows the SQL and typed parameters
 * even when the statement was prepared long before. Bounded: the oldest names are forgotten.
 */
import type { PostgresqlParameter } from './entry.ts';
import { binaryValue, hexValue, textValue, typeName } from './value-types.ts';

/** Statements and portals remembered per connection (drivers cache a few hundred at most). */
const MAX_NAMES = 512;
/** Parameters read of one Bind, and bytes kept of one parameter value. */
export const MAX_PARAMETERS = 1024;
export const PARAMETER_VALUE_BYTES = 1024;

export interface Statement {
  readonly query: string;
  /** Declared by Parse (0: unspecified), completed by ParameterDescription. Mutable: later Describe fills it. */
  parameterTypes: number[];
}

/** A Bind's parameter as sent: decoded when the entry is built, when its type may be better known. */
export interface RawParameter {
  readonly format: number;
  /** The first PARAMETER_VALUE_BYTES of the value; null for SQL NULL. */
  readonly bytes: Uint8Array | null;
  readonly length: number;
}

export interface Portal {
  readonly statementName: string;
  /** The statement as it was when bound (a later Parse of the same name does not change the portal). */
  readonly statement: Statement | undefined;
  readonly parameters: readonly RawParameter[];
}

export class PreparedStatements {
  readonly #statements = new Map<string, Statement>();
  readonly #portals = new Map<string, Portal>();

  parse(name: string, statement: Statement): void {
    remember(this.#statements, name, statement);
  }

  statement(name: string): Statement | undefined {
    return this.#statements.get(name);
  }

  bind(portalName: string, portal: Portal): void {
    remember(this.#portals, portalName, portal);
  }

  portal(name: string): Portal | undefined {
    return this.#portals.get(name);
  }

  close(kind: 'S' | 'P', name: string): void {
    if (kind === 'S') this.#statements.delete(name);
    else this.#portals.delete(name);
  }

  /** ParameterDescription for statement `name`: types the Parse left unspecified become known. */
  describe(name: string, oids: readonly number[]): void {
    const s = this.#statements.get(name);
    if (s === undefined) return;
    const types = s.parameterTypes;
    for (let i = 0; i < oids.length; i++) if ((types[i] ?? 0) === 0) types[i] = oids[i]!;
  }
}

function remember<V>(map: Map<string, V>, name: string, value: V): void {
  map.delete(name);
  map.set(name, value);
  if (map.size > MAX_NAMES) map.delete(map.keys().next().value!);
}

/** The parameters of an Execute as shown: typed where the statement's types are known. */
export function showParameters(raw: readonly RawParameter[], statement: Statement | undefined): PostgresqlParameter[] {
  return raw.map((p, i) => {
    const oid = statement?.parameterTypes[i] ?? 0;
    const format = p.format === 1 ? 'binary' : 'text';
    if (p.bytes === null) return { type: typeName(oid), value: null, format };
    let value: string;
    if (p.bytes.length < p.length) value = format === 'text' ? `${textValue(p.bytes, PARAMETER_VALUE_BYTES)}…` : `${hexValue(p.bytes)}…`;
    else value = format === 'text' ? textValue(p.bytes, PARAMETER_VALUE_BYTES) : binaryValue(oid, p.bytes, PARAMETER_VALUE_BYTES);
    return { type: typeName(oid), value, format };
  });
}
