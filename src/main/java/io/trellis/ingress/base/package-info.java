/**
 * The ground floor: small helpers that every stage uses and that depend on nothing of the service
 * (crash-safe file replacement, JSON text written and read without a tree, UTF-8 checked on bytes).
 * Nothing here imports another package of the service.
 */
package io.trellis.ingress.base;
