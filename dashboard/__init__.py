"""The Panel dashboard: views over one shared session state, reading EventSets and Runs. ``page`` is what a
browser gets first (it imports only Panel); ``app`` assembles the views; ``base`` sets up HoloViews for them."""
