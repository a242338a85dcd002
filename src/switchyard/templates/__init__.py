"""Prompt templates: named, versioned Jinja2 templates (in its sandbox) that a request names and
the Gateway renders into messages before anything else looks at the request.

- :mod:`.settings`: a definition (``templates:`` in the config, the admin API's body) and
  ``template_limits:``;
- :mod:`.sandbox`: the bounded Jinja2 sandbox;
- :mod:`.schema`: the variables' JSON Schema (a checked subset);
- :mod:`.store`: the admin API's templates in the database (needs the storage extra);
- :mod:`.library`: lookup, versions and rendering.
"""
