/** The route label's (attribute's) value for bytes allocated outside every route. */
export const OUTSIDE_EVERY_ROUTE = '(outside every route)';

/**
 * Routes joined for one shared handler (`GET /a | GET /b | …`) can be long: the label keeps this
 * many characters.
 */
const MAX_ROUTE_LABEL_LENGTH = 200;

/**
 * A route as the metrics carry it (Prometheus `route`, OpenTelemetry `heapwatch.route`): the
 * framework's spelling, `GET /orders/:id`, cut to a bounded length.
 */
export function routeLabel(route: string | null): string {
  if (route === null) return OUTSIDE_EVERY_ROUTE;
  return route.length <= MAX_ROUTE_LABEL_LENGTH ? route : `${route.slice(0, MAX_ROUTE_LABEL_LENGTH - 1)}…`;
}
