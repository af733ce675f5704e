package io.trellis.ingress.capture;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Replaces the request's own API key in stored text, in every form the service itself would decode
 * back into the key:
 *
 * <ul>
 *   <li>the key as it is;
 *   <li>any of its characters as a JSON escape ({@code \u005f}, {@code \/}), as a JSON body or
 *       batch item may carry it;
 *   <li>any of its characters percent-encoded ({@code %5F}, either case), as URLs, the Referer,
 *       query parameters, cookies and form bodies carry it; a space as {@code +};
 *   <li>its base64, as HTTP Basic carries it ({@code base64("KEY:password")}): the characters that
 *       depend on the key alone, plus the rest of that base64 run (the end of the key and the
 *       password), in the standard and the URL-safe alphabet.
 * </ul>
 *
 * Each encoded span is replaced whole by {@link EventCapture#REDACTED}. Mixed forms within one key
 * are found too, and so is a {@code +} of a form read back as a space (or a space as a {@code +})
 * in text with no escape at all. Text without the key in any form is returned as the same instance,
 * and text without {@code %} or {@code \} costs one literal search per form and swap. Immutable,
 * thread-safe.
 */
final class KeyRedactor {
  private static final int MIN_BASE64_PREFIX = 8;

  /*
   * Made for every request that carries a key: the encoders are shared (withoutPadding() makes a
   * new one per call), and each form's text and bytes are made once, from the key's bytes.
   */
  private static final Base64.Encoder STANDARD = Base64.getEncoder().withoutPadding();
  private static final Base64.Encoder URL_SAFE = Base64.getUrlEncoder().withoutPadding();

  /** The key and its base64 prefixes; index 0 is the key itself. */
  private final String[] forms;

  /**
   * Each form as text without an escape may hold it: as it is and, for a form with a {@code +} or a
   * space, with any of them swapped for the other ({@link #matchAt} takes a space for a {@code +}
   * that was sent unencoded in a query or form, and the reverse). {@link #scrub}'s first search.
   */
  private final String[] literals;

  /**
   * The same literals' UTF-8 bytes as Latin-1 text, one char per byte, for {@link #mayOccurIn}: the
   * JDK's string searches (vectorized) then look for them in a body's bytes.
   */
  private final String[] literalBytes;

  /**
   * True when a form has more {@code +} and spaces than {@link #MAX_SWAPS}: text holding either
   * then takes the slow path, as text with an escape does.
   */
  private final boolean swapsUnlisted;

  /** Forms with up to this many {@code +} and spaces get every swapped literal listed. */
  private static final int MAX_SWAPS = 4;

  /** The first char of each form, three at most (the key, its two base64 runs). */
  private final char firstChar0;

  private final char firstChar1;
  private final char firstChar2;

  /**
   * The ASCII chars at which {@link #scrub}'s char-by-char path must look: the escapes, {@code +},
   * the space and the forms' first chars, one bit per char (bit {@code c} of {@code asciiStarts[c
   * >>> 6]}). A text with an escape is read through one char at a time, and a bit test per char
   * costs less than comparing it with the seven.
   */
  private final long[] asciiStarts = new long[2];

  /**
   * The ASCII chars the forms hold, one bit per char, and whether any form holds another char: an
   * escape that reads as none of them cannot spell a form, so text whose escapes are all such (a
   * URL's {@code %3A}, and its {@code %2F} unless a base64 form holds a {@code /}) holds the key
   * only literally.
   */
  private final long[] formChars = new long[2];

  private final boolean nonAsciiFormChar;

  private final boolean scrubsOnce;

  private KeyRedactor(String[] forms) {
    this.forms = forms;
    boolean once = true;
    boolean unlisted = false;
    List<String> lits = new ArrayList<>(forms.length);
    for (String f : forms) {
      once &= f.indexOf('[') < 0 && f.indexOf(']') < 0 && !EventCapture.REDACTED.contains(f);
      unlisted |= !addLiterals(f, lits);
    }
    this.scrubsOnce = once;
    this.swapsUnlisted = unlisted;
    this.literals = lits.toArray(new String[0]);
    this.literalBytes = new String[literals.length];
    for (int i = 0; i < literals.length; i++) {
      literalBytes[i] = latin1OfUtf8(literals[i]);
    }
    this.firstChar0 = forms[0].charAt(0);
    this.firstChar1 = forms[forms.length > 1 ? 1 : 0].charAt(0);
    this.firstChar2 = forms[forms.length > 2 ? 2 : 0].charAt(0);
    for (char c : new char[] {'%', '\\', '+', ' ', firstChar0, firstChar1, firstChar2}) {
      mark(asciiStarts, c);
    }
    boolean nonAscii = false;
    for (String f : forms) {
      for (int i = 0; i < f.length(); i++) {
        nonAscii |= !mark(formChars, f.charAt(i));
      }
    }
    this.nonAsciiFormChar = nonAscii;
  }

  /** Sets an ASCII char's bit in a two-word bitmap; false, setting none, for any other char. */
  private static boolean mark(long[] bits, char c) {
    if (c >= 0x80) {
      return false;
    }
    bits[c >>> 6] |= 1L << c;
    return true;
  }

  /** Whether an ASCII char's bit is set ({@link #mark}). */
  private static boolean marked(long[] bits, int c) {
    return (bits[c >>> 6] >>> c & 1) != 0;
  }

  /**
   * Adds {@code form} and every text it becomes with some of its {@code +} and spaces swapped for
   * the other; false, with only the form added, when it has more than {@link #MAX_SWAPS} of them.
   */
  private static boolean addLiterals(String form, List<String> out) {
    int[] at = new int[MAX_SWAPS];
    int n = 0;
    for (int i = 0; i < form.length(); i++) {
      char c = form.charAt(i);
      if (c == '+' || c == ' ') {
        if (n == MAX_SWAPS) {
          out.add(form);
          return false;
        }
        at[n++] = i;
      }
    }
    if (n == 0) {
      out.add(form);
      return true;
    }
    for (int mask = 0; mask < 1 << n; mask++) {
      char[] cs = form.toCharArray();
      for (int k = 0; k < n; k++) {
        if ((mask & 1 << k) != 0) {
          cs[at[k]] = cs[at[k]] == '+' ? ' ' : '+';
        }
      }
      out.add(new String(cs));
    }
    return true;
  }

  /** The text's UTF-8 bytes as Latin-1 text: the text itself when it is ASCII. */
  private static String latin1OfUtf8(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
      }
    }
    return s;
  }

  /**
   * The redactor each event loop made last. Most of a loop's requests carry the key its previous
   * one did (an SDK's connection, a site's pixels), and making a redactor (the forms' base64, the
   * swapped literals, their bytes) cost more than scrubbing a request's texts with it.
   */
  private static final ThreadLocal<KeyRedactor> LAST = new ThreadLocal<>();

  /** A redactor for this key; null when there is no key to look for. */
  static KeyRedactor of(String key) {
    if (key == null || key.isEmpty()) {
      return null;
    }
    KeyRedactor last = LAST.get();
    if (last != null && sameKey(last.forms[0], key)) {
      return last;
    }
    KeyRedactor made = make(key);
    LAST.set(made);
    return made;
  }

  /**
   * Whether two keys are equal, in a time that depends on their lengths alone: the key of another
   * organization's request is compared here with the one of this request, whose sender must learn
   * nothing of the other by how long the comparison took.
   */
  static boolean sameKey(String a, String b) {
    int n = Math.min(a.length(), b.length());
    int diff = a.length() ^ b.length();
    for (int i = 0; i < n; i++) {
      diff |= a.charAt(i) ^ b.charAt(i);
    }
    return diff == 0;
  }

  private static KeyRedactor make(String key) {
    byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
    // base64 maps each 3 input bytes to 4 characters: the first (n / 3) groups depend on the key
    // alone, whatever follows it (":" and a password, in Basic).
    int whole = bytes.length / 3 * 3;
    if (whole / 3 * 4 < MIN_BASE64_PREFIX) {
      return new KeyRedactor(new String[] {key});
    }
    byte[] head = whole == bytes.length ? bytes : Arrays.copyOf(bytes, whole);
    byte[] standard = STANDARD.encode(head);
    byte[] urlSafe = URL_SAFE.encode(head);
    // Base64 is ASCII: its bytes are its text's.
    String standardText = new String(standard, StandardCharsets.ISO_8859_1);
    if (Arrays.equals(standard, urlSafe)) {
      return new KeyRedactor(new String[] {key, standardText});
    }
    return new KeyRedactor(
        new String[] {key, standardText, new String(urlSafe, StandardCharsets.ISO_8859_1)});
  }

  /**
   * Whether {@link #scrub} leaves text it returned unchanged. Scrubbed text is pieces the first
   * pass found nothing in, between {@link EventCapture#REDACTED}s: a new match would have to run
   * into one (a form holding {@code [} or {@code ]}) or lie inside one (a form that is part of
   * {@code [redacted]}, as the one-letter keys of tests are). True unless a form is such.
   */
  boolean scrubsOnce() {
    return scrubsOnce;
  }

  /** The text with every form of the key replaced; the same instance when there is none. */
  String scrub(String text) {
    if (text == null || text.isEmpty()) {
      return text;
    }
    boolean escapes =
        anEscapeMayMatch(text)
            || swapsUnlisted && (text.indexOf('+') >= 0 || text.indexOf(' ') >= 0);
    if (!escapes) {
      boolean any = false;
      for (String f : literals) {
        if (text.contains(f)) {
          any = true;
          break;
        }
      }
      if (!any) {
        return text;
      }
    }
    return replaceForms(text);
  }

  /**
   * Whether an escape in the text (a percent-escape or a JSON one) reads as a char that some form
   * holds. When none does, a form can only occur literally: {@link #matchAt} takes an escape for a
   * form's char only when it reads as that char. Found by jumping from one {@code %} or backslash
   * to the next, where the char-by-char path reads every char.
   */
  private boolean anEscapeMayMatch(String text) {
    int n = text.length();
    for (int i = text.indexOf('%'); i >= 0; i = text.indexOf('%', i + 1)) {
      if (formChar(hex(text, i + 1, 2))) {
        return true;
      }
    }
    for (int i = text.indexOf('\\'); i >= 0 && i + 1 < n; i = text.indexOf('\\', i + 1)) {
      char next = text.charAt(i + 1);
      if (formChar(next == 'u' ? hex(text, i + 2, 4) : next)) {
        return true;
      }
    }
    return false;
  }

  private boolean formChar(int c) {
    return c >= 0 && (c < 0x80 ? marked(formChars, c) : nonAsciiFormChar);
  }

  /**
   * {@link #scrub}'s char-by-char path: every position where a form may start is tried, in any mix
   * of its encodings. Package-private for the test that holds {@link #scrub}'s shortcuts to it.
   */
  String replaceForms(String text) {
    StringBuilder out = null;
    int copied = 0;
    int n = text.length();
    int i = 0;
    // The forms' first chars (the key's, its base64 runs'), compared directly: this loop runs over
    // every char of a text with an escape in it.
    char c0 = firstChar0;
    char c1 = firstChar1;
    char c2 = firstChar2;
    while (i < n) {
      char c = text.charAt(i);
      if (c < 0x80 ? !marked(asciiStarts, c) : c != c0 && c != c1 && c != c2) {
        // No form can start here (see matchAt's first step): skip the per-form matching.
        i++;
        continue;
      }
      if (c != c0 && c != c1 && c != c2 && !mayStartForm(text, i, c)) {
        i++;
        continue;
      }
      int end = -1;
      for (int f = 0; f < forms.length && end < 0; f++) {
        end = matchAt(text, i, forms[f]);
        if (end > 0 && f > 0) {
          end = base64RunEnd(text, end);
        }
      }
      if (end < 0) {
        i++;
        continue;
      }
      if (out == null) {
        out = new StringBuilder(n);
      }
      out.append(text, copied, i).append(EventCapture.REDACTED);
      copied = end;
      i = end;
    }
    if (out == null) {
      return text;
    }
    return out.append(text, copied, n).toString();
  }

  /**
   * False when {@link #scrub} of the text whose valid UTF-8 is {@code utf8[offset, offset +
   * length)} returns that text unchanged, found on the bytes without decoding them: they hold no
   * {@code %}, no {@code \\} and no form of the key literally (UTF-8 is self-synchronizing, so a
   * form's bytes occur in the text's bytes exactly where the form occurs in the text).
   */
  boolean mayOccurIn(byte[] utf8, int offset, int length) {
    // This runs on every body and batch item of a request with a key. The bytes are searched as
    // Latin-1 text (one char per byte, copied once): String's searches are the JDK's vectorized
    // ones, faster than eight positions at a time in longs (203 against 129 ns for the bench's
    // 405-byte event).
    String bytes = new String(utf8, offset, length, StandardCharsets.ISO_8859_1);
    if (bytes.indexOf('%') >= 0
        || bytes.indexOf('\\') >= 0
        || swapsUnlisted && (bytes.indexOf('+') >= 0 || bytes.indexOf(' ') >= 0)) {
      return true;
    }
    for (String form : literalBytes) {
      if (bytes.contains(form)) {
        return true;
      }
    }
    return false;
  }

  /**
   * False when no form can start at {@code i}, whose char {@code c} is an escape, a {@code +} or a
   * space: the char it reads as (its escape decoded once, or the other of {@code +} and space) is
   * none of the forms' first chars. An escape in a URL is mostly of a {@code /}, {@code :} or
   * {@code ?}, and trying each form at each of them decoded the escape once per form.
   */
  private boolean mayStartForm(String text, int i, char c) {
    int n = text.length();
    int read;
    if (c == '%') {
      read = hex(text, i + 1, 2);
    } else if (c == '\\' && i + 1 < n) {
      char next = text.charAt(i + 1);
      read = next == 'u' ? hex(text, i + 2, 4) : next;
    } else if (c == ' ') {
      read = '+';
    } else if (c == '+') {
      read = ' ';
    } else {
      return false;
    }
    return read >= 0 && (read == firstChar0 || read == firstChar1 || read == firstChar2);
  }

  /** The end of the form found at {@code start}, in any mix of its encodings; -1 when not there. */
  private static int matchAt(String text, int start, String form) {
    int n = text.length();
    int p = start;
    for (int k = 0; k < form.length(); k++) {
      if (p >= n) {
        return -1;
      }
      char want = form.charAt(k);
      char c = text.charAt(p);
      if (c == want) {
        p++;
      } else if (c == '%' && hex(text, p + 1, 2) == want) {
        p += 3;
      } else if (c == '\\' && p + 1 < n) {
        char next = text.charAt(p + 1);
        if (next == 'u' && hex(text, p + 2, 4) == want) {
          p += 6;
        } else if (next == want && (want == '/' || want == '"' || want == '\\')) {
          p += 2;
        } else {
          return -1;
        }
      } else if (c == ' ' && want == '+') {
        // A '+' sent unencoded in a query or form reads back as a space.
        p++;
      } else if (c == '+' && want == ' ') {
        p++;
      } else {
        return -1;
      }
    }
    return p;
  }

  /** The value of {@code digits} hex digits at {@code at}; -1 when they are not all there. */
  private static int hex(String text, int at, int digits) {
    if (at + digits > text.length()) {
      return -1;
    }
    int v = 0;
    for (int i = at; i < at + digits; i++) {
      int d = Character.digit(text.charAt(i), 16);
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  /** Past the rest of a base64 run: the key's last bytes and a Basic password are encoded there. */
  private static int base64RunEnd(String text, int from) {
    int i = from;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (Character.isLetterOrDigit(c) && c < 0x80
          || c == '+'
          || c == '/'
          || c == '-'
          || c == '_'
          || c == '=') {
        i++;
      } else if (c == '%' && hex(text, i + 1, 2) == '=') {
        i += 3;
      } else {
        break;
      }
    }
    return i;
  }

  /** Never the key. */
  @Override
  public String toString() {
    return "KeyRedactor{forms=" + forms.length + "}";
  }
}
