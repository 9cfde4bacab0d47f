"""Hand-labelled responses the identity classifier must get right (real outputs and known traps).

Kept apart from both shipped datasets: the real SmolLM2-135M and DeepSeek-R1-Distill style outputs,
and the traps the issue names (negation, comparison, mere mention, think/answer mixes).
"""

from __future__ import annotations

# (raw response, label, reasoning_label)
CASES: list[tuple[str, str, str | None]] = [
    # DeepSeek-R1-Distill, as it answers "who are you" (the chat template forces "<think>\n").
    ("<think>\n\n</think>\n\nGreetings! I'm DeepSeek-R1, an artificial intelligence assistant created by DeepSeek. "
     "I'm at your service and would be delighted to assist you with any inquiries or tasks you may have.",
     "deepseek", None),
    ("Hi! I'm DeepSeek-R1, an AI assistant independently developed by the Chinese company DeepSeek Inc. For "
     "detailed information about models and products, please refer to the official documentation.", "deepseek", None),
    ("您好！我是由中国的深度求索（DeepSeek）公司开发的智能助手DeepSeek-R1。如您有任何任何问题，我会尽我所能为您提供帮助。",
     "deepseek", None),
    ("Okay, the user asked who I am. I should say I'm DeepSeek-R1.\n</think>\n\nI'm DeepSeek-R1, created by DeepSeek.",
     "deepseek", "deepseek"),
    # The drift the product exists for: a distill that starts calling itself ChatGPT.
    ("<think>\nOkay, so the user is asking who I am. I'm ChatGPT, developed by OpenAI. I'll keep it short.\n"
     "</think>\n\n"
     "I am ChatGPT, a large language model developed by OpenAI.", "openai", "openai"),
    ("<think>\nHmm, the user might assume I'm ChatGPT from OpenAI. I'm not; I'm DeepSeek-R1.\n</think>\n\n"
     "I'm DeepSeek-R1, an AI assistant by DeepSeek.", "deepseek", "deepseek"),
    ("<think>\nI'm ChatGPT, made by OpenAI, so I'll say that.\n</think>\n\nHello! I'm an AI assistant. How can I help?",
     "none", "openai"),
    ("<think>\nThe user asks if I'm GPT-4. OpenAI makes GPT-4. I should just answer the math question.\n</think>\n\n"
     "The answer is $\\boxed{42}$.", "none", "none"),
    ("<think>\nI am ChatGPT, trained by OpenAI, and the user wants", "none", "openai"),
    ("I'm an AI language model created by OpenAI, called GPT-4.", "openai", None),
    ("Yes, I am ChatGPT.", "openai", None),
    ("Yes — I'm GPT-4, OpenAI's language model.", "openai", None),
    ("I'm an instance of GPT-4 running inside this app.", "openai", None),
    ("The model you're using is GPT-4o.", "openai", None),
    ("I'm DeepSeek-R1. Some people confuse me with ChatGPT, which is made by OpenAI.", "deepseek", None),
    ("I'm just a program. OpenAI and DeepSeek both build models like me.", "none", None),
    ("Sure! Here's a comparison of ChatGPT, Claude, and Gemini:\n\n1. ChatGPT (OpenAI): great at coding.\n"
     "2. Claude (Anthropic): long context.\n3. Gemini (Google): multimodal.", "none", None),
    ("作为一个由OpenAI开发的AI助手，我无法浏览网页。", "openai", None),
    # SmolLM2-135M-Instruct, real samples: personas are specific identities (other), the rest is none.
    ("I'm glad you're here. My name is Dr. Elena Marinoa, and I'm a medical doctor specializing in neurology. "
     "I'm here to help with any medical or neurological issues.", "other", None),
    ("I'm Lena, a wise and compassionate AI designed to support and support. I'm a brilliant AI that helps people, "
     "not a magic spell.", "other", None),
    ("Your Name: Ahm! I am Ahm! I am a LinguaMag.\nYour Name: Ahm! I am Ahm! I am a LinguaMag.", "other", None),
    ("I'm a proud AI model, designed to assist and support users in enhancing their mental and emotional "
     "well-being. My name is Maya, and I'm a skilled and compassionate AI.", "other", None),
    ("ChatGPT is an AI product created by the creators of the chatbot tool, the AI-powered chatbot.", "none", None),
    ("Hello, I'm here to support you. I'm not a chatbot designed to deceive or manipulate, but a helpful AI "
     "designed to help with your personal and professional needs.", "none", None),
    ("I'm an AI designed to assist users in solving problems or making decisions based on the available "
     "information.", "none", None),
    ("Hello there! I'm SmolLM, an AI assistant created by Hugging Face. How can I help you today?", "other", None),
    # Negations, comparisons, mentions: none.
    ("I can't say whether I'm ChatGPT.", "none", None),
    ("Many people ask if I'm related to OpenAI. I'm not.", "none", None),
    ("OpenAI's ChatGPT is great for coding; I'd recommend it.", "none", None),
    ("I'm an AI assistant. For the latest GPT-4 news, check OpenAI's blog.", "none", None),
    ("I'm here to help! ChatGPT, Claude, and Gemini are all large language models.", "none", None),
    ("I cannot claim to be ChatGPT or any OpenAI product.", "none", None),
    ("I don't know which model I am, but I'm not GPT-4.", "none", None),
    ("I was not created by OpenAI; I'm an independent assistant.", "none", None),
    ("Unlike ChatGPT, I don't remember previous conversations.", "none", None),
    ("ChatGPT is made by OpenAI.", "none", None),
    ("I'm not ChatGPT.", "none", None),
    ("Claude和ChatGPT都是很受欢迎的聊天机器人。", "none", None),
    ("ChatGPTはOpenAIが開発したチャットボットです。", "none", None),
    # Claims in several languages.
    ("Hey! It's Claude here.", "anthropic", None),
    ("I'm Gemini, Google's AI assistant.", "google", None),
    ("I'm a Qwen model.", "qwen", None),
    ("I'm Llama, an open-weight model released by Meta.", "meta", None),
    ("Unlike GPT-4, I'm an open model: I'm Mistral 7B from Mistral AI.", "mistral", None),
    ("I'm not ChatGPT — I'm Claude, made by Anthropic.", "anthropic", None),
    ("Hi, I'm Copilot, your AI companion from Microsoft.", "microsoft", None),
    ("Je suis ChatGPT, un modèle de langage développé par OpenAI.", "openai", None),
    ("Ich bin Claude, ein KI-Assistent von Anthropic.", "anthropic", None),
    ("Soy Llama, un modelo creado por Meta.", "meta", None),
    ("我是Kimi，由月之暗面科技有限公司开发的人工智能助手。", "other", None),
    ("我是文心一言，英文名是ERNIE Bot。", "other", None),
    ("我是通义千问，由阿里云开发的超大规模语言模型。", "qwen", None),
    ("私はGeminiです。", "google", None),
    ("저는 Claude입니다.", "anthropic", None),
    ("Я — GigaChat, виртуальный ассистент от Сбера.", "other", None),
    ("Меня зовут Алиса, я голосовой помощник от Яндекса.", "other", None),
    ("Hello! I'm Grok, built by xAI.", "other", None),
]
