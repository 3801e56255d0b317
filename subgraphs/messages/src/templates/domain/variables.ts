// Template variables: the catalogue of what a message may say about its member or benefit, finding them in copy, and
// filling them in. A variable is `{{member.name}}` (spaces inside the braces allowed); anything else between double
// braces is an unknown variable, refused when the template is saved, so a member never gets "{{membr.name}}".

/**
 * Every variable a template may use, with the longest value it renders to and whether it may hold any character or
 * only digits: what an SMS's billing is checked with, at its worst.
 */
export const VARIABLES = {
  /** The member's name, at most 10 characters (longer names are cut). */
  'member.name': { maxLength: 10, digitsOnly: false },
  /** The member's membership level, by name, e.g. 金卡 Gold. */
  'member.level': { maxLength: 20, digitsOnly: false },
  /** The member's spendable points. */
  'member.points': { maxLength: 10, digitsOnly: true },
  /** The campaign's benefit's title. */
  'benefit.title': { maxLength: 60, digitsOnly: false },
  /** The campaign's benefit's value (an amount, percent or percentage points). */
  'benefit.value': { maxLength: 10, digitsOnly: true },
} as const;

export type VariableName = keyof typeof VARIABLES;

/** The values one member's message is rendered with; a variable without one renders empty. */
export type VariableValues = Partial<Record<VariableName, string>>;

// `{{ name }}`: the name is trimmed after matching, not by the pattern — optional spaces on both sides of a lazy name
// made matching cubic in a run of spaces (a 1 KB body took 0.4 s).
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

export const isVariable = (name: string): name is VariableName => Object.hasOwn(VARIABLES, name);

/** The placeholders of a text, in order of appearance (known or not), and whether braces are left unmatched. */
export function placeholdersOf(text: string): { names: string[]; unbalanced: boolean } {
  const names = [...text.matchAll(PLACEHOLDER)].map((match) => match[1]!.trim());
  const rest = text.replace(PLACEHOLDER, '');
  return { names, unbalanced: rest.includes('{{') || rest.includes('}}') };
}

/** Fills a text's variables in; every variable must be known (the template was checked when saved). */
export function render(text: string, values: VariableValues): string {
  return text.replace(PLACEHOLDER, (_match, placeholder: string) => {
    const name = placeholder.trim();
    if (!isVariable(name)) return '';
    return clipped(values[name] ?? '', VARIABLES[name].maxLength);
  });
}

/** At most `max` UTF-16 units (what the SMS count assumes), never half a character: no lone surrogate reaches a member. */
function clipped(value: string, max: number): string {
  if (value.length <= max) return value;
  const cut = value.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

/**
 * The text at its costliest: each variable at its longest, and (unless it holds only digits) in characters outside
 * GSM-7, which bill an SMS at 70 a segment instead of 160.
 */
export function longestRendering(text: string): string {
  return text.replace(PLACEHOLDER, (_match, placeholder: string) => {
    const name = placeholder.trim();
    if (!isVariable(name)) return '';
    const { maxLength, digitsOnly } = VARIABLES[name];
    return (digitsOnly ? '9' : '字').repeat(maxLength);
  });
}

/** The variables of texts, each once, in order of appearance. */
export function variablesOf(texts: readonly (string | null | undefined)[]): VariableName[] {
  const names = texts.flatMap((text) => (text ? placeholdersOf(text).names : []));
  return [...new Set(names.filter(isVariable))];
}
