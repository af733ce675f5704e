package io.trellis.ingress.cli;

import picocli.CommandLine.IVersionProvider;

/** The release, as {@code --version} and the start-up banner show it. */
final class Version {
  static final String NUMBER = "0.1.0";

  private Version() {}

  /** For {@code --version} on every command. */
  static final class Provider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"trellis-ingress " + NUMBER};
    }
  }
}
