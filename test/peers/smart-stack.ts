// A SMART-protected FHIR server in one call: FHIR server (seeded), authorization server whose
// tokens are for that FHIR base, and the FHIR server checking those tokens and serving the
// `.well-known/smart-configuration` of the auth server.
import { startAuthServer, type AuthServer, type AuthServerOptions } from './auth-server.ts';
import { startFhirServer, type FhirServer, type FhirServerOptions } from './fhir-server.ts';
import { smartConfigurationFor, type SmartConfigurationOptions } from './smart-configuration.ts';

export interface SmartStack {
  fhir: FhirServer;
  auth: AuthServer;
  close(): Promise<void>;
}

export async function startSmartStack(opts: {
  fhir?: Omit<FhirServerOptions, 'verifyToken' | 'smartConfig'>;
  auth: Omit<AuthServerOptions, 'fhirBase'>;
  /** e.g. `{ omitIssuer: true }` to serve a smart-configuration without `issuer`. */
  smartConfiguration?: SmartConfigurationOptions;
}): Promise<SmartStack> {
  const fhir = await startFhirServer(opts.fhir);
  let auth: AuthServer;
  try {
    auth = await startAuthServer({ ...opts.auth, fhirBase: fhir.baseUrl });
  } catch (e) {
    await fhir.close();
    throw e;
  }
  fhir.attachAuth({
    verifyToken: auth.verifyAccessToken,
    smartConfig: opts.smartConfiguration ? smartConfigurationFor(auth, opts.smartConfiguration) : auth.smartConfiguration,
  });
  return {
    fhir,
    auth,
    close: async () => {
      await auth.close();
      await fhir.close();
    },
  };
}
