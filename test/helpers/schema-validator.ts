import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** Validates values against one document's `components.schemas` with ajv (JSON Schema 2020-12, as OpenAPI 3.1 says). */
export function schemaValidator(doc: object, id: string) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: id });
  return (schema: string, value: unknown): string[] => {
    const validate = ajv.getSchema(`${id}#/components/schemas/${schema}`);
    if (validate === undefined) return [`no schema ${schema}`];
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${schema}${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  };
}
