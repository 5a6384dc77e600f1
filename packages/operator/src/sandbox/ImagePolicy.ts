import type { SandboxTemplateSpec } from "@agent-sandbox/domain"

/**
 * Which images a template lets a request name outright: its own containers' images, its idle
 * image, its runtimes', and what `allowedImages` lists. An entry ending in '/', ':' or '@' is a
 * prefix; 'sha256:<hex>' a digest in any repository; anything else a repository with any tag or
 * digest (so 'python' allows 'python:3.12' but not 'python-evil').
 */
export const entryAllows = (entry: string, image: string): boolean => {
  if (entry.startsWith("sha256:")) return image.endsWith(`@${entry}`)
  if (entry.endsWith("/") || entry.endsWith(":") || entry.endsWith("@")) return image.startsWith(entry)
  return image === entry || image.startsWith(`${entry}:`) || image.startsWith(`${entry}@`)
}

/** The images a template itself names: always allowed. */
export const ownImages = (template: SandboxTemplateSpec): ReadonlySet<string> =>
  new Set([
    ...template.podTemplate.spec.containers.flatMap((c) => (c.image === undefined ? [] : [c.image])),
    ...(template.idleImage === undefined ? [] : [template.idleImage]),
    ...template.runtimes.map((r) => r.image),
  ])

export const allows = (template: SandboxTemplateSpec, image: string): boolean =>
  ownImages(template).has(image) || (template.allowedImages ?? []).some((entry) => entryAllows(entry, image))
