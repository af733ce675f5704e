package io.trellis.ingress.enrich;

import java.time.LocalDate;
import java.time.Month;
import java.time.Year;

/**
 * The forms of a time that SDKs send, read by hand: {@code 2026-11-30T12:34:56.789Z}, with an
 * offset ({@code +01:00}) or none (UTC), and epoch seconds or milliseconds as integers. {@code
 * java.time}'s parsers cost about a microsecond each (more when one fails and the next is tried);
 * these forms are most of the traffic. Anything else, or a field out of range, is left to {@link
 * EventTimes#time}'s {@code java.time} chain: a form read here gives what that chain gives for it.
 * Stateless.
 */
final class CommonTimes {
  /** Not one of the common forms. */
  static final long OTHER = EventTimes.NONE;

  /* Integers of up to 15 digits are exact as the doubles EventTimes reads numbers into. */
  private static final int MAX_EXACT_DIGITS = 15;
  private static final long SECONDS_BELOW = 100_000_000_000L;
  private static final int MAX_OFFSET_SECONDS = 18 * 3600;

  private CommonTimes() {}

  /**
   * Epoch milliseconds of digits only: seconds below 10^11, else milliseconds; {@link #OTHER} for
   * anything else.
   */
  static long epoch(String t) {
    int len = t.length();
    if (len == 0 || len > MAX_EXACT_DIGITS) {
      return OTHER;
    }
    long n = 0;
    for (int i = 0; i < len; i++) {
      char c = t.charAt(i);
      if (c < '0' || c > '9') {
        return OTHER;
      }
      n = n * 10 + (c - '0');
    }
    return n < SECONDS_BELOW ? n * 1000 : n;
  }

  /**
   * Epoch milliseconds of {@code YYYY-MM-DDTHH:MM:SS}, an optional fraction of 1 to 9 digits, and
   * {@code Z}, {@code ±HH:MM} or nothing (UTC); {@link #OTHER} for anything else.
   */
  static long iso(String t) {
    int len = t.length();
    if (len < 19
        || t.charAt(4) != '-'
        || t.charAt(7) != '-'
        || t.charAt(10) != 'T'
        || t.charAt(13) != ':'
        || t.charAt(16) != ':') {
      return OTHER;
    }
    int year = digits(t, 0, 4);
    int month = digits(t, 5, 7);
    int day = digits(t, 8, 10);
    int hour = digits(t, 11, 13);
    int minute = digits(t, 14, 16);
    int second = digits(t, 17, 19);
    if (year < 0
        || month < 1
        || month > 12
        || day < 1
        || day > Month.of(month).length(Year.isLeap(year))
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59) {
      return OTHER;
    }
    int i = 19;
    int millis = 0;
    if (i < len && t.charAt(i) == '.') {
      int start = ++i;
      while (i < len && i - start < 9 && isDigit(t.charAt(i))) {
        millis = i - start < 3 ? millis * 10 + (t.charAt(i) - '0') : millis;
        i++;
      }
      int n = i - start;
      if (n == 0) {
        return OTHER;
      }
      for (int k = n; k < 3; k++) {
        millis *= 10;
      }
    }
    int offset;
    if (i == len) {
      offset = 0;
    } else if (i == len - 1 && t.charAt(i) == 'Z') {
      offset = 0;
    } else if (i == len - 6
        && (t.charAt(i) == '+' || t.charAt(i) == '-')
        && t.charAt(i + 3) == ':') {
      int oh = digits(t, i + 1, i + 3);
      int om = digits(t, i + 4, i + 6);
      if (oh < 0 || om < 0 || om > 59) {
        return OTHER;
      }
      offset = oh * 3600 + om * 60;
      if (offset > MAX_OFFSET_SECONDS) {
        return OTHER;
      }
      offset = t.charAt(i) == '-' ? -offset : offset;
    } else {
      return OTHER;
    }
    long days = LocalDate.of(year, month, day).toEpochDay();
    long seconds = days * 86_400 + hour * 3600L + minute * 60L + second - offset;
    return seconds * 1000 + millis;
  }

  /** The number written by the ASCII digits {@code t[from, to)}, or -1. */
  private static int digits(String t, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      char c = t.charAt(i);
      if (!isDigit(c)) {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
