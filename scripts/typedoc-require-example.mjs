// A TypeDoc plugin (loaded by typedoc.json). Every public export, that is every class,
// interface, function, type alias and variable reachable from the package's entries, must carry
// an `@example` in its doc comment. TypeDoc's own validation.notDocumented only asks for *a*
// comment; the team asked for an example on each (issue #17), so a missing one fails the build.
import { Application, Converter, ReflectionKind } from "typedoc";

const EXPORT_KINDS =
  ReflectionKind.Class | ReflectionKind.Interface | ReflectionKind.Function | ReflectionKind.TypeAlias | ReflectionKind.Variable;

/** @param {import("typedoc").Application} app */
export function load(app) {
  // Members keyed by the package's internal symbols (kReduce, kEnter, ... in src/) are plumbing
  // between its own modules, not API: they stay out of the reference.
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const members = ReflectionKind.Method | ReflectionKind.Property | ReflectionKind.Accessor;
    for (const reflection of context.project.getReflectionsByKind(members)) {
      if (/^\[k[A-Z]/.test(reflection.name)) context.project.removeReflection(reflection);
    }
  });
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    const seen = new Set();
    for (const reflection of project.getReflectionsByKind(EXPORT_KINDS)) {
      // Only the entries' own exports: not a function-typed property, not a nested declaration.
      if (!reflection.parent?.kindOf(ReflectionKind.Module | ReflectionKind.Project)) continue;
      const name = reflection.getFullName();
      const comments = [reflection.comment, ...(reflection.signatures ?? []).map((s) => s.comment)];
      const hasExample = comments.some((c) => c?.blockTags.some((t) => t.tag === "@example"));
      const key = `${reflection.name}@${reflection.sources?.[0]?.fileName ?? ""}`;
      if (hasExample || seen.has(key)) continue;
      seen.add(key);
      app.logger.error(`${name} (${ReflectionKind[reflection.kind]}) has no @example in its doc comment`);
    }
  });
}
