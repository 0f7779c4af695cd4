"""The web app: the voters' booth, the officers' console, the public results and a JSON API.

One FastAPI app (:func:`tallyroom.web.app.create_app`) serves server-rendered Jinja2 pages
that work without JavaScript, and a JSON API under ``/api`` described at ``/openapi.json``.
Handlers parse their input, make one service call and render the answer; policy lives in
:mod:`tallyroom.services`.

* :mod:`~tallyroom.web.settings` - :class:`WebSettings`, declared as data
* :mod:`~tallyroom.web.app` - the app factory: middleware, routers, error pages
* :mod:`~tallyroom.web.server` - :func:`serve` (uvicorn, one or several workers)
* :mod:`~tallyroom.web.security` - security headers, CSRF tokens, rate limits
* :mod:`~tallyroom.web.guards` - dependencies that load the election and check the role
* :mod:`~tallyroom.web.ballot_form` - the booth's form fields <-> a ballot
* :mod:`~tallyroom.web.charts` - round-by-round and transfer charts (plotly figures)
* :mod:`~tallyroom.web.booth`, :mod:`~tallyroom.web.console`, :mod:`~tallyroom.web.public`,
  :mod:`~tallyroom.web.api` - the routes, one module per audience
"""
