package io.trellis.ingress.enrich;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Text that every match of a regular expression (Java's syntax) must contain, as clauses: a match
 * meets every clause, and meets a clause by containing all the strings of one of its alternatives.
 * {@code (Chrome)/(\d+)\.(\d+)} needs {@code Chrome}, {@code /} and {@code .}, three clauses of one
 * alternative each; {@code (Edge|Edg)/} needs {@code Edge} or {@code Edg}, and {@code /}; {@code
 * Windows {0,2}Phone|BREW} needs {@code Windows} and {@code Phone}, or {@code BREW}. An optional
 * part ({@code ?}, {@code *}, a group with an empty alternative) adds nothing, nor does a
 * lookaround. The answer is conservative: what it cannot read for sure (a character class other
 * than one letter in both cases, an escape other than an escaped punctuation mark, a backreference)
 * ends a run of literal text and adds nothing, so a string that fails a clause cannot match. When
 * the expression ignores case, or has a class such as {@code [Ss]}, the strings are in ASCII lower
 * case ({@link Needs#lowered}), to be looked for in text lowered the same way.
 */
final class RegexLiterals {
  private final String re;
  private int i;

  /** Whether a one-letter class in both cases ({@code [Ss]}) was read as its lower-case letter. */
  private boolean folds;

  private RegexLiterals(String re) {
    this.re = re;
  }

  /**
   * What every match needs: the clauses, most selective first, each an array of alternatives, each
   * the strings that alternative needs; and whether they are lowered. The arrays are not copied:
   * read them only.
   */
  record Needs(String[][][] clauses, boolean lowered) {}

  /**
   * What every match of {@code regex} contains (no clause when nothing is certain).
   *
   * @param ignoreCase whether the expression is compiled case-insensitive (an inline {@code (?i)}
   *     anywhere in it is taken the same way)
   */
  static Needs of(String regex, boolean ignoreCase) {
    if (INLINE_FLAGS_NOT_READ.matcher(regex).find()) {
      return NOTHING;
    }
    RegexLiterals r = new RegexLiterals(regex);
    List<String[][]> found;
    try {
      found = r.sequence();
    } catch (RuntimeException e) {
      return NOTHING; // syntax this reading does not know: the pattern is always tried
    }
    if (r.i != regex.length()) {
      return NOTHING; // an unbalanced ')': not read further
    }
    boolean lower = ignoreCase || INLINE_FLAGS_WITH_I.matcher(regex).find() || r.folds;
    found.sort(Comparator.comparingInt(RegexLiterals::score).reversed());
    if (lower) {
      for (String[][] clause : found) {
        for (String[] all : clause) {
          Arrays.setAll(all, k -> asciiLower(all[k]));
        }
      }
    }
    return new Needs(found.toArray(new String[0][][]), lower);
  }

  /** How selective a clause is: the longest string of its weakest alternative. */
  private static int score(String[][] clause) {
    int weakest = Integer.MAX_VALUE;
    for (String[] all : clause) {
      int longest = 0;
      for (String a : all) {
        longest = Math.max(longest, a.length());
      }
      weakest = Math.min(weakest, longest);
    }
    return weakest;
  }

  private static final Needs NOTHING = new Needs(new String[0][][], false);

  /** An inline flag group that sets or clears {@code i}: "(?i)", "(?im:", "(?-i)". */
  private static final Pattern INLINE_FLAGS_WITH_I = Pattern.compile("\\(\\?[a-zA-Z-]*i");

  /**
   * Inline flags under which literal text is not what it looks like: Unicode case folding (a "K"
   * that matches the Kelvin sign) and comments mode (spaces that match nothing).
   */
  private static final Pattern INLINE_FLAGS_NOT_READ = Pattern.compile("\\(\\?[a-zA-Z-]*[uUx]");

  /** ASCII letters lowered, everything else kept: what {@code CASE_INSENSITIVE} folds. */
  static String asciiLower(String s) {
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      if (c >= 'A' && c <= 'Z') {
        char[] chars = s.toCharArray();
        for (int j = k; j < chars.length; j++) {
          if (chars[j] >= 'A' && chars[j] <= 'Z') {
            chars[j] = (char) (chars[j] + ('a' - 'A'));
          }
        }
        return new String(chars);
      }
    }
    return s;
  }

  /**
   * Reads up to a ')' (not consumed) or the end: the clauses every match of it meets. Of
   * alternatives, a match meets one. Each alternative gives what it needs for sure: the strings of
   * its one-alternative clauses, all together, or else the alternatives of its most selective
   * clause; an alternative that needs nothing makes the whole need nothing.
   */
  private List<String[][]> sequence() {
    List<List<String[][]>> branches = new ArrayList<>();
    List<String[][]> clauses = new ArrayList<>();
    StringBuilder run = new StringBuilder();
    while (i < re.length()) {
      char c = re.charAt(i);
      if (c == ')') {
        break;
      }
      if (c == '|') {
        i++;
        flush(run, clauses);
        branches.add(clauses);
        clauses = new ArrayList<>();
        continue;
      }
      String literal = null;
      List<String[][]> group = List.of();
      if (c == '\\') {
        literal = escape();
      } else if (c == '[') {
        literal = foldedLetter();
        if (literal == null) {
          skipClass();
        }
      } else if (c == '(') {
        group = group();
      } else if (c == '.' || c == '^' || c == '$') {
        i++;
      } else {
        literal = String.valueOf(c);
        i++;
      }
      int min = quantifier();
      if (literal != null && min != 0) {
        run.append(literal);
      }
      if (min != 1 || literal == null) {
        // A repeated or optional atom, or one that is not a literal, ends the run.
        flush(run, clauses);
      }
      if (min != 0) {
        clauses.addAll(group);
      }
    }
    flush(run, clauses);
    if (branches.isEmpty()) {
      return clauses;
    }
    branches.add(clauses);
    List<String[]> alternatives = new ArrayList<>();
    for (List<String[][]> branch : branches) {
      List<String> all = new ArrayList<>();
      String[][] best = null;
      for (String[][] clause : branch) {
        if (clause.length == 1) {
          all.addAll(List.of(clause[0]));
        } else if (best == null || score(clause) > score(best)) {
          best = clause;
        }
      }
      if (!all.isEmpty()) {
        alternatives.add(all.toArray(new String[0]));
      } else if (best != null) {
        alternatives.addAll(List.of(best));
      } else {
        return List.of(); // an alternative that needs nothing
      }
    }
    List<String[][]> one = new ArrayList<>();
    one.add(alternatives.toArray(new String[0][]));
    return one;
  }

  /** A run of literal text as a clause of one alternative. */
  private static void flush(StringBuilder run, List<String[][]> into) {
    if (!run.isEmpty()) {
      into.add(new String[][] {{run.toString()}});
      run.setLength(0);
    }
  }

  /**
   * A class of one letter in both cases ({@code [Ss]}), read as its lower-case letter; null (and
   * nothing read) for any other class.
   */
  private String foldedLetter() {
    if (i + 3 < re.length() && re.charAt(i + 3) == ']') {
      char a = re.charAt(i + 1);
      char b = re.charAt(i + 2);
      if (a != b && isAsciiLetter(a) && isAsciiLetter(b) && (a | 0x20) == (b | 0x20)) {
        i += 4;
        folds = true;
        return String.valueOf((char) (a | 0x20));
      }
    }
    return null;
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  /**
   * After an atom: its quantifier, if any, read; answers the least number of times the atom must
   * occur (1 without a quantifier, or -1 for "one, but not as a plain single occurrence": a {@code
   * +} or {@code {n,m}} with n at least 1).
   */
  private int quantifier() {
    if (i >= re.length()) {
      return 1;
    }
    char q = re.charAt(i);
    int min;
    if (q == '?' || q == '*') {
      min = 0;
      i++;
    } else if (q == '+') {
      min = -1;
      i++;
    } else if (q == '{') {
      int close = re.indexOf('}', i);
      if (close < 0) {
        throw new IllegalArgumentException("unclosed quantifier in " + re);
      }
      String body = re.substring(i + 1, close);
      int comma = body.indexOf(',');
      int n = Integer.parseInt((comma < 0 ? body : body.substring(0, comma)).trim());
      min = n == 0 ? 0 : -1;
      i = close + 1;
    } else {
      return 1;
    }
    if (i < re.length() && (re.charAt(i) == '?' || re.charAt(i) == '+')) {
      i++; // lazy or possessive: the same least count
    }
    return min;
  }

  /** An escape; answers its literal character, or null when it stands for something else. */
  private String escape() {
    if (i + 1 >= re.length()) {
      throw new IllegalArgumentException("trailing backslash in " + re);
    }
    char n = re.charAt(i + 1);
    i += 2;
    switch (n) {
      case 'p', 'P' -> {
        if (i < re.length() && re.charAt(i) == '{') {
          i = re.indexOf('}', i) + 1;
        } else {
          i++;
        }
        return null;
      }
      case 'x' -> {
        if (i < re.length() && re.charAt(i) == '{') {
          i = re.indexOf('}', i) + 1;
        } else {
          i += 2;
        }
        return null;
      }
      case 'u' -> {
        i += 4;
        return null;
      }
      case 'c' -> {
        i++;
        return null;
      }
      case 'k' -> {
        i = re.indexOf('>', i) + 1;
        return null;
      }
      case 'Q' -> {
        int end = re.indexOf("\\E", i);
        i = end < 0 ? re.length() : end + 2;
        return null;
      }
      case '0' -> {
        while (i < re.length() && re.charAt(i) >= '0' && re.charAt(i) <= '7') {
          i++;
        }
        return null;
      }
      default -> {
        if (Character.isLetterOrDigit(n)) {
          while (n >= '1' && n <= '9' && i < re.length() && Character.isDigit(re.charAt(i))) {
            i++; // a backreference's further digits
          }
          return null;
        }
        return String.valueOf(n);
      }
    }
  }

  /** Skips a character class, nested ones and escapes included. */
  private void skipClass() {
    int depth = 0;
    while (i < re.length()) {
      char c = re.charAt(i);
      if (c == '\\') {
        i += 2;
        continue;
      }
      if (c == '[') {
        depth++;
      } else if (c == ']') {
        depth--;
        if (depth == 0) {
          i++;
          return;
        }
      }
      i++;
    }
    throw new IllegalArgumentException("unclosed character class in " + re);
  }

  /** A group; answers what every match of it contains (nothing for a lookaround or flags). */
  private List<String[][]> group() {
    i++; // '('
    boolean counts = true;
    if (i < re.length() && re.charAt(i) == '?') {
      i++;
      char k = re.charAt(i);
      if (k == ':' || k == '>') {
        i++;
      } else if (k == '=' || k == '!') {
        i++;
        counts = false;
      } else if (k == '<' && (re.charAt(i + 1) == '=' || re.charAt(i + 1) == '!')) {
        i += 2;
        counts = false;
      } else if (k == '<') {
        i = re.indexOf('>', i) + 1; // a named group
      } else {
        // Flags: "(?i)" alone, or "(?i:...)" around a group.
        while (i < re.length() && re.charAt(i) != ':' && re.charAt(i) != ')') {
          i++;
        }
        if (re.charAt(i) == ')') {
          i++;
          return List.of();
        }
        i++;
      }
    }
    List<String[][]> inner = sequence();
    if (i >= re.length() || re.charAt(i) != ')') {
      throw new IllegalArgumentException("unclosed group in " + re);
    }
    i++;
    return counts ? inner : List.of();
  }
}
