"""The Panel dashboard: views over one shared session state, reading EventSets and Runs."""
