/// The OpenAPI 3 description of the `/v1` control API, served at `/v1/openapi.json`.
///
/// Keep it in step with `ControlAPI`, `ControlAPI+Messaging`, `ControlExposure` and `Limits`: the fuzz run in
/// `Tests/compat/test_fuzz_api.py` generates requests from it and checks every answer against it.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.0.3",
          "info": {
            "title": "Stratus control API",
            "version": "1",
            "description": "The JSON API of the control plane, used by the `stratus` CLI. Errors are `{\"error\": {\"code\": ..., \"message\": ...}}`. Every request is refused (403) when it carries a foreign `Origin` or a non-loopback `Host`; POST and PATCH requests must say `Content-Type: application/json` (415). Durations are `500ms`, `3s`, `2m`, `6h`, `4d`; in request bodies a whole number of milliseconds also works."
          },
          "tags": [{"name": "host"}, {"name": "functions"}, {"name": "logs"}, {"name": "queues"}, {"name": "topics"}],
          "paths": {
            "/v1/health": {
              "get": {
                "operationId": "health",
                "summary": "Whether the host answers",
                "tags": ["host"],
                "responses": {
                  "200": {
                    "description": "The host is up.",
                    "content": {"text/plain": {"schema": {"type": "string", "enum": ["ok"]}}}
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              }
            },
            "/v1/openapi.json": {
              "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["host"],
                "responses": {
                  "200": {
                    "description": "The OpenAPI 3 description of `/v1`.",
                    "content": {"application/json": {"schema": {"type": "object"}}}
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              }
            },
            "/v1/status": {
              "get": {
                "operationId": "status",
                "summary": "Functions, queues and topics at a glance",
                "tags": ["host"],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "maxWorkers": {"type": "integer", "minimum": 1, "description": "`--max-workers`: workers in all."},
                            "isolation": {
                              "type": "string",
                              "enum": ["cgroup", "process group"],
                              "description": "How workers are contained."
                            },
                            "functions": {"type": "array", "items": {"$ref": "#/components/schemas/FunctionStatus"}},
                            "queues": {"type": "array", "items": {"$ref": "#/components/schemas/QueueSummary"}},
                            "topics": {"type": "array", "items": {"$ref": "#/components/schemas/TopicSummary"}}
                          },
                          "required": ["maxWorkers", "isolation", "functions", "queues", "topics"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              }
            },
            "/v1/functions": {
              "get": {
                "operationId": "listFunctions",
                "summary": "Loaded functions with their pools and breakers",
                "tags": ["functions"],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/FunctionStatus"}}}
                    }
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              }
            },
            "/v1/routes": {
              "get": {
                "operationId": "listRoutes",
                "summary": "HTTP routes of the gateway",
                "tags": ["functions"],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "routes": {
                              "type": "array",
                              "items": {
                                "type": "object",
                                "properties": {
                                  "route": {"type": "string", "example": "GET /hello/{name}"},
                                  "function": {"type": "string"}
                                },
                                "required": ["route", "function"],
                                "additionalProperties": false
                              }
                            }
                          },
                          "required": ["routes"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              }
            },
            "/v1/functions/{name}/invoke": {
              "post": {
                "operationId": "invoke",
                "summary": "Invoke a function",
                "tags": ["functions"],
                "parameters": [
                  {"$ref": "#/components/parameters/FunctionName"},
                  {
                    "name": "async",
                    "in": "query",
                    "description": "`true`: answer 202 once the event is committed, run it soon after (payload at most 1 MB); any other value invokes synchronously.",
                    "schema": {"type": "string"},
                    "example": "true"
                  }
                ],
                "requestBody": {
                  "required": false,
                  "content": {"application/json": {"schema": {}, "example": {"name": "Ada"}}},
                  "description": "The event, handed to the function as it is (at most 6 MB)."
                },
                "responses": {
                  "200": {
                    "description": "The invocation ran (whatever its status).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InvokeResult"}}}
                  },
                  "202": {
                    "description": "`async=true`: the event is committed and will run soon.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"eventId": {"type": "string"}, "status": {"type": "string", "enum": ["accepted"]}},
                          "required": ["eventId", "status"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/functions/{name}/breaker/reset": {
              "post": {
                "operationId": "resetBreaker",
                "summary": "Close a function's circuit breaker",
                "tags": ["functions"],
                "description": "400 `NoCircuitBreaker` when the function has `circuitBreaker: off`.",
                "parameters": [{"$ref": "#/components/parameters/FunctionName"}],
                "requestBody": {
                  "required": false,
                  "content": {"application/json": {"schema": {}}},
                  "description": "Ignored; the request must still say `Content-Type: application/json`."
                },
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"function": {"type": "string"}, "breaker": {"type": "string", "enum": ["CLOSED"]}},
                          "required": ["function", "breaker"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/logs": {
              "get": {
                "operationId": "logs",
                "summary": "Invocation records, oldest first",
                "tags": ["logs"],
                "parameters": [
                  {
                    "name": "function",
                    "in": "query",
                    "description": "Only this function's records.",
                    "schema": {"type": "string"},
                    "example": "hello"
                  },
                  {
                    "name": "status",
                    "in": "query",
                    "description": "Only records with this status.",
                    "schema": {"$ref": "#/components/schemas/InvocationStatus"}
                  },
                  {
                    "name": "event",
                    "in": "query",
                    "description": "Only the attempts of this async event id.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "since",
                    "in": "query",
                    "required": false,
                    "description": "Only records this recent: a duration between 0s and 3650d (`500ms`, `3s`, `2m`, `6h`, `4d`).",
                    "schema": {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$"},
                    "example": "10m"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "description": "At most this many records: the newest ones, answered oldest first.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "example": 50
                  },
                  {
                    "name": "after",
                    "in": "query",
                    "description": "Only records whose `sequence` is greater.",
                    "schema": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 9223372036854775807}
                  },
                  {
                    "name": "wait",
                    "in": "query",
                    "required": false,
                    "description": "Long poll: when nothing matches, wait this long for the next commit to the log: a duration between 0s and 20s (`500ms`, `3s`, `2m`, `6h`, `4d`).",
                    "schema": {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$"},
                    "example": "0s"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "invocations": {"type": "array", "items": {"$ref": "#/components/schemas/InvocationRecord"}}
                          },
                          "required": ["invocations"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              }
            },
            "/v1/events": {
              "get": {
                "operationId": "events",
                "summary": "What the host did on its own: scaling, replacements, throttles, breakers",
                "tags": ["logs"],
                "parameters": [
                  {
                    "name": "function",
                    "in": "query",
                    "description": "Only this function's records.",
                    "schema": {"type": "string"},
                    "example": "hello"
                  },
                  {
                    "name": "status",
                    "in": "query",
                    "description": "Only records with this status.",
                    "schema": {"$ref": "#/components/schemas/InvocationStatus"}
                  },
                  {
                    "name": "event",
                    "in": "query",
                    "description": "Only the attempts of this async event id.",
                    "schema": {"type": "string"}
                  },
                  {
                    "name": "since",
                    "in": "query",
                    "required": false,
                    "description": "Only records this recent: a duration between 0s and 3650d (`500ms`, `3s`, `2m`, `6h`, `4d`).",
                    "schema": {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$"},
                    "example": "10m"
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "description": "At most this many records: the newest ones, answered oldest first.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "example": 50
                  },
                  {
                    "name": "after",
                    "in": "query",
                    "description": "Only records whose `sequence` is greater.",
                    "schema": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 9223372036854775807}
                  },
                  {
                    "name": "wait",
                    "in": "query",
                    "required": false,
                    "description": "Long poll: when nothing matches, wait this long for the next commit to the log: a duration between 0s and 20s (`500ms`, `3s`, `2m`, `6h`, `4d`).",
                    "schema": {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$"},
                    "example": "0s"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"events": {"type": "array", "items": {"$ref": "#/components/schemas/HostEvent"}}},
                          "required": ["events"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              }
            },
            "/v1/queues": {
              "get": {
                "operationId": "listQueues",
                "summary": "Queues with their depths",
                "tags": ["queues"],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"queues": {"type": "array", "items": {"$ref": "#/components/schemas/QueueSummary"}}},
                          "required": ["queues"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              },
              "post": {
                "operationId": "createQueue",
                "summary": "Create a queue",
                "tags": ["queues"],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "allOf": [
                          {"$ref": "#/components/schemas/QueueSettingsUpdate"},
                          {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,80}$"}}
                          }
                        ]
                      },
                      "example": {"name": "jobs", "visibilityTimeout": "30s", "deadLetterQueue": "billing-dlq"}
                    }
                  },
                  "description": "`name` (1-80 letters, digits, `-` or `_`) and settings. 404 when `deadLetterQueue` does not exist."
                },
                "responses": {
                  "201": {
                    "description": "Created; it survives restarts.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"queue": {"type": "string"}},
                          "required": ["queue"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "200": {
                    "description": "It exists already with the same settings.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"queue": {"type": "string"}},
                          "required": ["queue"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "409": {"$ref": "#/components/responses/E409"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/queues/{name}": {
              "patch": {
                "operationId": "updateQueue",
                "summary": "Change a queue's settings; its messages and consumer are kept",
                "tags": ["queues"],
                "parameters": [{"$ref": "#/components/parameters/QueueName"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {"$ref": "#/components/schemas/QueueSettingsUpdate"},
                      "example": {"visibilityTimeout": "1m", "maxReceiveCount": 4}
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueSettings"}}}
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/queues/{name}/messages": {
              "post": {
                "operationId": "sendMessage",
                "summary": "Send a message; answered once it is committed",
                "tags": ["queues"],
                "parameters": [{"$ref": "#/components/parameters/QueueName"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "body": {"type": "string", "description": "At most 1 MiB of UTF-8."},
                          "attributes": {"$ref": "#/components/schemas/MessageAttributes"},
                          "delay": {
                            "description": "Delay before it becomes visible (default: the queue's): a duration between 0s and 15m (`500ms`, `3s`, `2m`, `6h`, `4d`) or a whole number of milliseconds.",
                            "oneOf": [
                              {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$", "example": "15m"},
                              {"type": "integer", "minimum": 0, "maximum": 900000}
                            ]
                          }
                        },
                        "required": ["body"]
                      },
                      "example": {"body": "{\"id\": 1}", "attributes": {"type": "created"}}
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"messageId": {"type": "string"}},
                          "required": ["messageId"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/queues/{name}/receive": {
              "post": {
                "operationId": "receiveMessages",
                "summary": "Receive messages, long-polling up to `wait`",
                "tags": ["queues"],
                "parameters": [{"$ref": "#/components/parameters/QueueName"}],
                "requestBody": {
                  "required": false,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "max": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
                          "visibilityTimeout": {
                            "description": "How long the received messages stay hidden (default: the queue's): a duration between 0s and 12h (`500ms`, `3s`, `2m`, `6h`, `4d`) or a whole number of milliseconds.",
                            "oneOf": [
                              {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$", "example": "12h"},
                              {"type": "integer", "minimum": 0, "maximum": 43200000}
                            ]
                          },
                          "wait": {
                            "description": "How long to wait for a first message (default 0): a duration between 0s and 20s (`500ms`, `3s`, `2m`, `6h`, `4d`) or a whole number of milliseconds.",
                            "oneOf": [
                              {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$", "example": "20s"},
                              {"type": "integer", "minimum": 0, "maximum": 20000}
                            ]
                          }
                        }
                      },
                      "example": {"max": 10, "wait": "0s"}
                    }
                  },
                  "description": "An empty body receives one message without waiting."
                },
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {
                            "messages": {"type": "array", "maxItems": 10, "items": {"$ref": "#/components/schemas/QueueMessage"}}
                          },
                          "required": ["messages"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/queues/{name}/delete": {
              "post": {
                "operationId": "deleteMessages",
                "summary": "Delete received messages by receipt handle",
                "tags": ["queues"],
                "parameters": [{"$ref": "#/components/parameters/QueueName"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "properties": {"receiptHandles": {"type": "array", "maxItems": 10, "items": {"type": "string"}}},
                        "required": ["receiptHandles"]
                      },
                      "example": {"receiptHandles": ["handle"]}
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"deleted": {"type": "integer", "minimum": 0}},
                          "required": ["deleted"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/queues/{name}/visibility": {
              "post": {
                "operationId": "changeVisibility",
                "summary": "Change how long a received message stays hidden",
                "tags": ["queues"],
                "description": "400 `ReceiptHandleIsInvalid` when the handle is not the message's current one.",
                "parameters": [{"$ref": "#/components/parameters/QueueName"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "receiptHandle": {"type": "string"},
                          "timeout": {
                            "description": "From now; 0 makes it visible at once: a duration between 0s and 12h (`500ms`, `3s`, `2m`, `6h`, `4d`) or a whole number of milliseconds.",
                            "oneOf": [
                              {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$", "example": "12h"},
                              {"type": "integer", "minimum": 0, "maximum": 43200000}
                            ]
                          }
                        },
                        "required": ["receiptHandle", "timeout"]
                      },
                      "example": {"receiptHandle": "handle", "timeout": 0}
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"changed": {"type": "boolean", "enum": [true]}},
                          "required": ["changed"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/queues/{name}/purge": {
              "post": {
                "operationId": "purgeQueue",
                "summary": "Delete every message of a queue",
                "tags": ["queues"],
                "parameters": [{"$ref": "#/components/parameters/QueueName"}],
                "requestBody": {
                  "required": false,
                  "content": {"application/json": {"schema": {}}},
                  "description": "Ignored; the request must still say `Content-Type: application/json`."
                },
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"purged": {"type": "integer", "minimum": 0}},
                          "required": ["purged"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/queues/{name}/redrive": {
              "post": {
                "operationId": "redrive",
                "summary": "Move a dead-letter queue's messages back to their source queue (or to `to`)",
                "tags": ["queues"],
                "parameters": [{"$ref": "#/components/parameters/QueueName"}],
                "requestBody": {
                  "required": false,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "properties": {"to": {"type": "string", "description": "An existing queue."}}
                      },
                      "example": {"to": "billing"}
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"moved": {"type": "integer", "minimum": 0}},
                          "required": ["moved"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/topics": {
              "get": {
                "operationId": "listTopics",
                "summary": "Topics with their subscriptions",
                "tags": ["topics"],
                "responses": {
                  "200": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"topics": {"type": "array", "items": {"$ref": "#/components/schemas/TopicSummary"}}},
                          "required": ["topics"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"}
                }
              },
              "post": {
                "operationId": "createTopic",
                "summary": "Create a topic (a no-op when it exists)",
                "tags": ["topics"],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "properties": {"name": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,80}$"}},
                        "required": ["name"]
                      },
                      "example": {"name": "orders"}
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"topic": {"type": "string"}},
                          "required": ["topic"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/topics/{name}/subscriptions": {
              "post": {
                "operationId": "subscribe",
                "summary": "Subscribe a function, a queue or an HTTP endpoint to a topic",
                "tags": ["topics"],
                "parameters": [{"$ref": "#/components/parameters/TopicName"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "description": "Exactly one of `function` (a loaded function), `queue` (an existing queue) or `http` (an http:// or https:// URL).",
                        "properties": {
                          "function": {"type": "string"},
                          "queue": {"type": "string"},
                          "http": {"type": "string", "pattern": "^https?://"},
                          "filter": {"description": "An SNS filter policy (a JSON object)."},
                          "filterScope": {
                            "type": "string",
                            "enum": ["attributes", "body"],
                            "description": "What `filter` matches: message attributes (default) or the JSON message body."
                          },
                          "raw": {
                            "type": "boolean",
                            "description": "Queue and HTTP deliveries: the bare message instead of the SNS envelope."
                          },
                          "deadLetterQueue": {"type": "string", "description": "An existing queue for HTTP deliveries that give up."}
                        },
                        "oneOf": [{"required": ["function"]}, {"required": ["queue"]}, {"required": ["http"]}]
                      },
                      "example": {"queue": "billing", "filter": {"type": ["created"]}}
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"subscriptionId": {"type": "string"}},
                          "required": ["subscriptionId"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            },
            "/v1/topics/{name}/publish": {
              "post": {
                "operationId": "publish",
                "summary": "Publish; answered once every matching delivery is committed",
                "tags": ["topics"],
                "parameters": [{"$ref": "#/components/parameters/TopicName"}],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "type": "object",
                        "properties": {
                          "message": {"type": "string", "description": "At most 256 KB of UTF-8."},
                          "subject": {"type": "string"},
                          "attributes": {"$ref": "#/components/schemas/MessageAttributes"}
                        },
                        "required": ["message"]
                      },
                      "example": {"message": "{\"id\": 1}", "attributes": {"type": "created"}}
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "OK",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object",
                          "properties": {"messageId": {"type": "string"}},
                          "required": ["messageId"],
                          "additionalProperties": false
                        }
                      }
                    }
                  },
                  "400": {"$ref": "#/components/responses/E400"},
                  "401": {"$ref": "#/components/responses/E401"},
                  "403": {"$ref": "#/components/responses/E403"},
                  "404": {"$ref": "#/components/responses/E404"},
                  "413": {"$ref": "#/components/responses/E413"},
                  "415": {"$ref": "#/components/responses/E415"}
                }
              }
            }
          },
          "components": {
            "schemas": {
              "Error": {
                "type": "object",
                "properties": {
                  "error": {
                    "type": "object",
                    "properties": {
                      "code": {
                        "type": "string",
                        "description": "Stable, machine-readable reason.",
                        "example": "InvalidParameter"
                      },
                      "message": {"type": "string", "description": "What was wrong and what was expected."}
                    },
                    "required": ["code", "message"],
                    "additionalProperties": false
                  }
                },
                "required": ["error"],
                "additionalProperties": false,
                "description": "Every `/v1` error: `{\"error\": {\"code\": ..., \"message\": ...}}`."
              },
              "FunctionStatus": {
                "type": "object",
                "properties": {
                  "name": {"type": "string"},
                  "runtime": {"type": "string", "enum": ["python", "node", "provided"]},
                  "revision": {"type": "string", "description": "Short hash of the function directory's files."},
                  "breaker": {"type": "string", "enum": ["CLOSED", "OPEN", "HALF_OPEN", "OFF"]},
                  "nextProbe": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Set while the breaker is open: when it lets a probe through."
                  },
                  "workers": {"type": "integer", "minimum": 0, "description": "Workers starting, busy or idle."},
                  "busy": {"type": "integer", "minimum": 0},
                  "idle": {"type": "integer", "minimum": 0},
                  "starting": {"type": "integer", "minimum": 0},
                  "waiting": {"type": "integer", "minimum": 0, "description": "Callers waiting for a worker."},
                  "min": {"type": "integer", "minimum": 0},
                  "max": {"type": "integer", "minimum": 0},
                  "reserved": {"type": "integer", "minimum": 0},
                  "coldStarts": {"type": "integer", "minimum": 0},
                  "throttles": {"type": "integer", "minimum": 0},
                  "scaleUps": {"type": "integer", "minimum": 0},
                  "scaleDowns": {"type": "integer", "minimum": 0},
                  "replaced": {"type": "integer", "minimum": 0}
                },
                "required": [
                  "name",
                  "runtime",
                  "revision",
                  "breaker",
                  "workers",
                  "busy",
                  "idle",
                  "starting",
                  "waiting",
                  "min",
                  "max",
                  "reserved",
                  "coldStarts",
                  "throttles",
                  "scaleUps",
                  "scaleDowns",
                  "replaced"
                ],
                "additionalProperties": false
              },
              "QueueCounts": {
                "type": "object",
                "properties": {
                  "visible": {"type": "integer", "minimum": 0},
                  "inFlight": {"type": "integer", "minimum": 0},
                  "delayed": {"type": "integer", "minimum": 0}
                },
                "required": ["visible", "inFlight", "delayed"],
                "additionalProperties": false
              },
              "QueueSummary": {
                "type": "object",
                "properties": {
                  "name": {"type": "string"},
                  "counts": {"$ref": "#/components/schemas/QueueCounts"},
                  "deadLetterQueue": {"type": "string"},
                  "deadLettered": {"type": "integer", "minimum": 0, "description": "Messages in the dead-letter queue."},
                  "maxReceiveCount": {"type": "integer", "minimum": 1, "maximum": 1000},
                  "visibilityTimeoutMs": {"type": "integer", "minimum": 0, "maximum": 43200000},
                  "consumer": {"type": "string", "description": "The function that consumes the queue."}
                },
                "required": ["name", "counts", "visibilityTimeoutMs"],
                "additionalProperties": false
              },
              "QueueSettings": {
                "type": "object",
                "properties": {
                  "name": {"type": "string"},
                  "visibilityTimeoutMs": {"type": "integer", "minimum": 0, "maximum": 43200000},
                  "retentionMs": {"type": "integer", "minimum": 60000, "maximum": 1209600000},
                  "delayMs": {"type": "integer", "minimum": 0, "maximum": 900000},
                  "maxReceiveCount": {"type": "integer", "minimum": 1, "maximum": 1000},
                  "deadLetterQueue": {"type": "string"},
                  "consumer": {"type": "string"}
                },
                "required": ["name", "visibilityTimeoutMs", "retentionMs", "delayMs"],
                "additionalProperties": false,
                "description": "A queue's settings after an update."
              },
              "QueueSettingsUpdate": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": "string",
                    "description": "The queue's own name (it cannot be changed).",
                    "pattern": "^[A-Za-z0-9_-]{1,80}$"
                  },
                  "visibilityTimeout": {
                    "description": "How long a received message stays hidden; at least the timeout of the queue's consumer: a duration between 0s and 12h (`500ms`, `3s`, `2m`, `6h`, `4d`) or a whole number of milliseconds.",
                    "oneOf": [
                      {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$", "example": "12h"},
                      {"type": "integer", "minimum": 0, "maximum": 43200000}
                    ]
                  },
                  "retention": {
                    "description": "How long a message is kept: a duration between 60s and 14d (`500ms`, `3s`, `2m`, `6h`, `4d`) or a whole number of milliseconds.",
                    "oneOf": [
                      {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$", "example": "14d"},
                      {"type": "integer", "minimum": 60000, "maximum": 1209600000}
                    ]
                  },
                  "delay": {
                    "description": "Delay before a new message becomes visible: a duration between 0s and 15m (`500ms`, `3s`, `2m`, `6h`, `4d`) or a whole number of milliseconds.",
                    "oneOf": [
                      {"type": "string", "pattern": "^\\s*[0-9]+(ms|s|m|h|d)\\s*$", "example": "15m"},
                      {"type": "integer", "minimum": 0, "maximum": 900000}
                    ]
                  },
                  "maxReceiveCount": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 1000,
                    "description": "Receives after which a message moves to the dead-letter queue."
                  },
                  "deadLetterQueue": {
                    "type": "string",
                    "nullable": true,
                    "description": "An existing queue, other than this one; `null` removes it. maxReceiveCount defaults to 5 with one."
                  }
                },
                "additionalProperties": false,
                "description": "Queue settings; unknown keys are refused (400)."
              },
              "MessageAttributes": {
                "type": "object",
                "nullable": true,
                "maxProperties": 10,
                "description": "At most 10 attributes. Names: 1-256 letters, digits, `-`, `_` or `.`, not starting or ending with `.`, without `..`, not starting with `aws.` or `amazon.`. Values: a string, a number, or `{dataType, stringValue}` with a data type `String`, `Number` or `Binary` (optionally `.label`); a `Number` must hold a number; no value may be empty.",
                "propertyNames": {"pattern": "^[A-Za-z0-9_.-]{1,256}$"},
                "additionalProperties": {
                  "oneOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "number"},
                    {
                      "type": "object",
                      "required": ["dataType", "stringValue"],
                      "properties": {
                        "dataType": {"type": "string", "pattern": "^(String|Number|Binary)(\\..*)?$", "maxLength": 256},
                        "stringValue": {"type": "string", "minLength": 1}
                      }
                    }
                  ]
                },
                "example": {"type": "created", "amount": 5}
              },
              "MessageAttribute": {
                "type": "object",
                "properties": {"dataType": {"type": "string"}, "stringValue": {"type": "string"}},
                "required": ["dataType", "stringValue"],
                "additionalProperties": false
              },
              "QueueMessage": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "queue": {"type": "string"},
                  "body": {"type": "string"},
                  "attributes": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/MessageAttribute"}},
                  "sentAtMs": {"type": "integer", "format": "int64", "description": "Epoch milliseconds of the send."},
                  "firstReceivedAtMs": {"type": "integer", "format": "int64", "description": "Epoch milliseconds of the first receive."},
                  "receiveCount": {"type": "integer", "minimum": 1},
                  "receiptHandle": {"type": "string", "description": "Needed to delete the message or change its visibility."}
                },
                "required": ["id", "queue", "body", "attributes", "sentAtMs", "receiveCount"],
                "additionalProperties": false
              },
              "Subscription": {
                "type": "object",
                "properties": {
                  "id": {"type": "string"},
                  "kind": {"type": "string", "enum": ["function", "queue", "http"]},
                  "target": {"type": "string", "description": "The function or queue name, or the URL."},
                  "filter": {"type": "string", "description": "The filter policy, as JSON text."},
                  "filterScope": {"type": "string", "enum": ["MessageAttributes", "MessageBody"]},
                  "raw": {"type": "boolean"},
                  "deadLetterQueue": {"type": "string"}
                },
                "required": ["id", "kind", "target", "filterScope", "raw"],
                "additionalProperties": false
              },
              "TopicSummary": {
                "type": "object",
                "properties": {
                  "name": {"type": "string"},
                  "subscriptions": {"type": "array", "items": {"$ref": "#/components/schemas/Subscription"}}
                },
                "required": ["name", "subscriptions"],
                "additionalProperties": false
              },
              "InvocationRecord": {
                "type": "object",
                "properties": {
                  "sequence": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Position in the log: pass it as `after` to read what follows."
                  },
                  "id": {"type": "string", "description": "The request id the function saw."},
                  "function": {"type": "string"},
                  "version": {"type": "string"},
                  "trigger": {"type": "string", "description": "`cli`, `invoke-api`, `http`, `topic`, `queue` or `async`."},
                  "source": {"type": "string", "description": "The route, topic or queue; empty for direct invokes."},
                  "attempt": {"type": "integer", "minimum": 1},
                  "start": {"type": "string", "format": "date-time"},
                  "durationMs": {"type": "number", "minimum": 0},
                  "initDurationMs": {"type": "number", "minimum": 0, "description": "Set on cold starts."},
                  "status": {"$ref": "#/components/schemas/InvocationStatus"},
                  "errorType": {"type": "string"},
                  "errorMessage": {"type": "string"},
                  "memorySizeMB": {"type": "integer", "minimum": 0},
                  "maxMemoryUsedMB": {"type": "integer", "minimum": 0},
                  "output": {"type": "string", "description": "What the function printed while it ran."},
                  "eventId": {"type": "string", "description": "The async event this attempt belongs to."}
                },
                "required": [
                  "id",
                  "function",
                  "version",
                  "trigger",
                  "source",
                  "attempt",
                  "start",
                  "durationMs",
                  "status",
                  "memorySizeMB",
                  "maxMemoryUsedMB",
                  "output"
                ],
                "additionalProperties": false
              },
              "InvocationStatus": {"type": "string", "enum": ["ok", "error", "timeout", "crashed", "throttled", "rejected"]},
              "HostEvent": {
                "type": "object",
                "properties": {
                  "sequence": {"type": "integer", "format": "int64"},
                  "time": {"type": "string", "format": "date-time"},
                  "function": {"type": "string"},
                  "kind": {
                    "type": "string",
                    "enum": [
                      "SCALE_UP",
                      "SCALE_DOWN",
                      "REPLACED",
                      "THROTTLED",
                      "DEAD_LETTERED",
                      "DROPPED",
                      "BREAKER_OPEN",
                      "BREAKER_HALF_OPEN",
                      "BREAKER_CLOSED",
                      "PAUSED",
                      "RESUMED",
                      "SHUTDOWN"
                    ]
                  },
                  "message": {"type": "string"}
                },
                "required": ["time", "function", "kind", "message"],
                "additionalProperties": false
              },
              "InvokeResult": {
                "type": "object",
                "properties": {
                  "invocationId": {"type": "string"},
                  "status": {"$ref": "#/components/schemas/InvocationStatus"},
                  "result": {"description": "The function's response: JSON as it returned it, other bytes as a string."},
                  "durationMs": {"type": "number", "minimum": 0},
                  "initDurationMs": {"type": "number", "minimum": 0, "nullable": true, "description": "Set on cold starts."},
                  "errorType": {"type": "string"},
                  "errorMessage": {"type": "string"},
                  "logs": {"type": "string", "description": "START, output, END and REPORT lines, as Lambda prints them."}
                },
                "required": ["invocationId", "status", "result", "durationMs", "initDurationMs", "logs"],
                "additionalProperties": false
              }
            },
            "parameters": {
              "FunctionName": {
                "name": "name",
                "in": "path",
                "required": true,
                "description": "A loaded function.",
                "schema": {"type": "string", "minLength": 1},
                "example": "hello"
              },
              "QueueName": {
                "name": "name",
                "in": "path",
                "required": true,
                "description": "A queue.",
                "schema": {"type": "string", "minLength": 1},
                "example": "billing"
              },
              "TopicName": {
                "name": "name",
                "in": "path",
                "required": true,
                "description": "A topic.",
                "schema": {"type": "string", "minLength": 1},
                "example": "orders"
              }
            },
            "responses": {
              "E400": {
                "description": "The request is invalid: the message names the key and what was expected. Codes: `InvalidParameter`, `InvalidParameterValue`, `ReceiptHandleIsInvalid`, `NoCircuitBreaker`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "E401": {
                "description": "A control plane bound beyond loopback needs `Authorization: Bearer TOKEN` (`stratus serve --token`). Codes: `MissingToken`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "E403": {
                "description": "Refused: a foreign `Origin` (or `Sec-Fetch-Site` other than `same-origin`/`none`), a `Host` that is not loopback nor allowed with `--allow-host`, or a per-host limit reached (1000 queues, 1000 topics, 100 subscriptions per topic). Codes: `ForbiddenOrigin`, `ForbiddenHost`, `OverLimit`, `LimitExceeded`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "E404": {
                "description": "No such function, queue or topic. Codes: `FunctionNotFound`, `QueueDoesNotExist`, `TopicNotFound`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "E409": {
                "description": "A queue of that name exists with other settings: change them with `PATCH /v1/queues/{name}`. Codes: `QueueAlreadyExists`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "E413": {
                "description": "Too large: a synchronous payload above 6 MB, an async one above 1 MB, a queue message above 1 MiB, a published message above 256 KB, or another request body above 2 MiB. Codes: `RequestTooLarge`, `MessageTooLong`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              },
              "E415": {
                "description": "POST and PATCH requests under `/v1` must say `Content-Type: application/json`, with or without a body. Codes: `UnsupportedMediaType`.",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
              }
            }
          }
        }
        """#
}
