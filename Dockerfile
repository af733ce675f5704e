# Trellis Ingress container image: build with Maven, run on a Temurin 17 JRE as a non-root user.
#   docker build -t trellis-ingress .
#   docker run -p 8080:8080 -v trellis-data:/var/lib/trellis trellis-ingress
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src src
RUN mvn -B -q -DskipTests -Dspotless.check.skip=true package

FROM eclipse-temurin:17-jre
RUN groupadd --system --gid 10001 trellis \
 && useradd --system --uid 10001 --gid trellis --home-dir /var/lib/trellis trellis \
 && mkdir -p /var/lib/trellis && chown trellis:trellis /var/lib/trellis
COPY --from=build /src/target/trellis-ingress.jar /opt/trellis/trellis-ingress.jar
USER trellis
ENV TRELLIS_DATA_DIR=/var/lib/trellis \
    TRELLIS_HOST=0.0.0.0 \
    TRELLIS_ADMIN_HOST=0.0.0.0
VOLUME /var/lib/trellis
# 8080: capture port (public). 9090: admin port (/metrics, /healthz, /readyz); keep it private.
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/9090 && printf "GET /readyz HTTP/1.0\r\n\r\n" >&3 && head -n 1 <&3 | grep -q " 200 "'
# The spool's backlog lives on disk, so the heap can stay small. It is pinned at its size (initial =
# maximum, never shrunk): a heap shrunk to a few times the live data collects ten times a second
# under load (docs/operating.md#memory).
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=50", "-XX:InitialRAMPercentage=50", "-XX:MaxHeapFreeRatio=100", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/trellis/trellis-ingress.jar"]
CMD ["serve"]
