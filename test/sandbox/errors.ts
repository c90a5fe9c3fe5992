/**
 * Kubernetes Status errors with the wording and details of a real apiserver
 * (apimachinery/pkg/api/errors), so clients print what they would print against a cluster.
 */

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; kind?: string; group?: string; causes?: StatusCause[] };
  code: number;
}

export class StatusError extends Error {
  readonly body: StatusBody;

  constructor(code: number, reason: string, message: string, details?: StatusBody['details']) {
    super(message);
    this.body = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details !== undefined) this.body.details = details;
  }

  get code(): number {
    return this.body.code;
  }
}

/** What an apiserver that is starting (or a load balancer before one) answers. */
export function serviceUnavailable(): StatusError {
  return new StatusError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
}

export function unauthorized(): StatusError {
  return new StatusError(401, 'Unauthorized', 'Unauthorized');
}

export function notFound(resource: string, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource });
}

/** What an unknown path or a disabled subresource gets (kubectl debug reads an empty details.name as "disabled"). */
export function pathNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function methodNotAllowed(): StatusError {
  return new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function unsupportedMediaType(): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
    {},
  );
}

export function conflict(resource: string, name: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, kind: resource },
  );
}

export function alreadyExists(resource: string, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource });
}

export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function internalError(err: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${err}`, { causes: [{ message: err }] });
}

/** RBAC denial, worded like the real authorizer. */
export function forbiddenRbac(o: {
  user: string;
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}): StatusError {
  const what = o.name ? `${o.resource} "${o.name}"` : o.resource;
  const full = o.subresource ? `${o.resource}/${o.subresource}` : o.resource;
  const scope = o.namespace ? `in the namespace "${o.namespace}"` : 'at the cluster scope';
  const message = `${what} is forbidden: User "${o.user}" cannot ${o.verb} resource "${full}" in API group "" ${scope}`;
  const details: StatusBody['details'] = o.name ? { name: o.name, kind: o.resource } : { kind: o.resource };
  return new StatusError(403, 'Forbidden', message, details);
}

export function forbidden(resource: string, name: string, reason: string): StatusError {
  return new StatusError(403, 'Forbidden', `${resource} "${name}" is forbidden: ${reason}`, { name, kind: resource });
}

/** One field error of a 422 (field.Error in apimachinery). */
export interface FieldError {
  field: string;
  /** FieldValueDuplicate, FieldValueForbidden, ... */
  reason: string;
  /** The part after `field: `, e.g. `Duplicate value: "nginx"`. */
  body: string;
}

export const fieldErrors = {
  duplicate: (field: string, value: string): FieldError => ({ field, reason: 'FieldValueDuplicate', body: `Duplicate value: ${JSON.stringify(value)}` }),
  required: (field: string, detail = ''): FieldError => ({ field, reason: 'FieldValueRequired', body: detail ? `Required value: ${detail}` : 'Required value' }),
  notFound: (field: string, value: string): FieldError => ({ field, reason: 'FieldValueNotFound', body: `Not found: ${JSON.stringify(value)}` }),
  forbidden: (field: string, detail: string): FieldError => ({ field, reason: 'FieldValueForbidden', body: `Forbidden: ${detail}` }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    field,
    reason: 'FieldValueInvalid',
    body: `Invalid value: ${JSON.stringify(value)}: ${detail}`,
  }),
  notSupported: (field: string, value: string, supported: string[]): FieldError => ({
    field,
    reason: 'FieldValueNotSupported',
    body: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
};

export function invalid(kind: string, name: string, errors: FieldError[]): StatusError {
  const texts = errors.map((e) => `${e.field}: ${e.body}`);
  const list = texts.length === 1 ? texts[0]! : `[${texts.join(', ')}]`;
  return new StatusError(422, 'Invalid', `${kind} "${name}" is invalid: ${list}`, {
    name,
    kind,
    causes: errors.map((e) => ({ reason: e.reason, message: e.body, field: e.field })),
  });
}
