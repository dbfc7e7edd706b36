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
  /**
   * The authorization server answers on the FHIR server's origin too (requests outside the FHIR
   * base are forwarded), and the smart-configuration lists endpoints relative to the FHIR base.
   */
  relativeEndpoints?: boolean;
}): Promise<SmartStack> {
  const fhir = await startFhirServer(opts.fhir);
  let auth: AuthServer;
  try {
    auth = await startAuthServer({ ...opts.auth, fhirBase: fhir.baseUrl });
  } catch (e) {
    await fhir.close();
    throw e;
  }
  const configOptions: SmartConfigurationOptions | undefined = opts.relativeEndpoints ? { ...opts.smartConfiguration, relativeTo: fhir.baseUrl } : opts.smartConfiguration;
  fhir.attachAuth({
    verifyToken: auth.verifyAccessToken,
    smartConfig: configOptions ? smartConfigurationFor(auth, configOptions) : auth.smartConfiguration,
    ...(opts.relativeEndpoints ? { proxyOutside: auth.issuer } : {}),
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
