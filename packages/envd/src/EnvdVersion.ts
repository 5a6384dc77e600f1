/**
 * The envd version this data plane reports (the control plane returns it as `envdVersion`).
 * The SDKs switch features on it (e2b JS 2.51 / Python 2.63):
 *   0.3.0  `stdin: false` on start          -> implemented
 *   0.4.0  no forced user "user"            -> implemented (see README: commands run as the
 *                                              container's user whatever user is asked for)
 *   0.5.2  closeStdin                       -> implemented
 *   0.5.7  application/octet-stream uploads -> implemented
 *   0.6.2  file metadata (X-Metadata-*)     -> not implemented
 *   0.6.3  entry info in watch events       -> not implemented
 * so 0.5.7 is the newest version whose features are all real here.
 */
export const envdVersion = "0.5.7"
