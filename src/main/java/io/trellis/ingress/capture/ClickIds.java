package io.trellis.ingress.capture;

import java.util.List;

/**
 * Parameter names that carry an ad platform's click id, in the order they are looked for. The
 * generic {@code click_id} / {@code clickid} come first: a client that names its click id wins.
 */
public final class ClickIds {
  public static final List<String> GENERIC = List.of("click_id", "clickid");

  public static final List<String> PLATFORMS =
      List.of(
          "gclid", // Google Ads
          "gbraid", // Google Ads, iOS app-to-web
          "wbraid", // Google Ads, iOS web-to-app
          "dclid", // Google Display & Video 360 / Campaign Manager
          "fbclid", // Meta (Facebook, Instagram)
          "msclkid", // Microsoft Advertising
          "ttclid", // TikTok
          "li_fat_id", // LinkedIn
          "twclid", // X (Twitter)
          "epik", // Pinterest
          "ScCid", // Snapchat
          "sccid", // Snapchat, lower-case variant
          "rdt_cid", // Reddit
          "yclid", // Yandex
          "qclid", // Quora
          "tblci", // Taboola
          "irclickid", // Impact
          "ef_id", // Adobe Advertising
          "s_kwcid", // Adobe Analytics
          "_kx", // Klaviyo
          "mc_eid", // Mailchimp (subscriber of a campaign click)
          "obclid"); // Outbrain

  private ClickIds() {}
}
