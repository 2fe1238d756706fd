"""The scenario engine: scenario model, runner, drivers, stored runs, requirement verdicts.

`banc.scenario.model` says what a scenario is; `runner.Runner` plays one against a DUI through
a driver (`drivers`) and stores the run (`runs`); `judge` matches expectations to the journal;
`verdicts` turns a run into requirement verdicts and the scenarios into a coverage matrix.
See docs/scenario-engine.md.
"""
