package io.trellis.ingress.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a test class using {@link ClickHouseServerExtension}: its {@link ClickHouseServer} is the
 * ClickHouse engine of {@code libchdb.so} (a current ClickHouse, 26.5) behind the HTTP test front,
 * instead of the installed {@code clickhouse-server}.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface ChdbEngine {}
